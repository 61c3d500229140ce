"""The project's own transport: a configured enqueue function (enqueue-functions)."""

SENT = []


def publish(topic, payload):
    SENT.append((topic, payload))

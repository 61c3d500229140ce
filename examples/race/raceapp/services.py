"""The request side: SPEC.md's motivating example, on Celery.

``demo.py`` runs this module as it is (the race), then runs a copy that
``oncommit-fix`` rewrote (the fix). Keep the imports absolute: the copy is
imported from a temporary directory.
"""

from __future__ import annotations

import time

from django.db import transaction

from raceapp.models import Message
from raceapp.tasks import send_message

# The rest of the request after the enqueue: saving, rendering, auditing.
MORE_WORK_SECONDS = 0.2


@transaction.atomic
def send_msg(recipient: str, text: str, msgid: str) -> Message:
    msg, _created = Message.objects.get_or_create(
        msgid=msgid, defaults={"recipient": recipient, "text": text}
    )
    send_message.delay(recipient, text, msg.msgid)
    msg.status = "QUEUED"
    msg.save()
    time.sleep(MORE_WORK_SECONDS)
    return msg

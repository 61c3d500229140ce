"""The one model: a message, unique by ``msgid``."""

from __future__ import annotations

from django.db import models


class Message(models.Model):
    msgid = models.CharField(max_length=64, unique=True)
    recipient = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=20, default="NEW")

    def __str__(self) -> str:
        return f"{self.msgid} ({self.status})"

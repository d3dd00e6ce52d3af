"""Sending a message: through SMTP at `SMTP_URL`, or into the log where there is none."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10.0


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand `message` over for delivery; raises (and is retried) when it cannot."""
        ...


class SmtpMailer:
    """`smtp://[user:password@]host[:port]` (STARTTLS when the server offers it, required
    when a password is given) or `smtps://...` (TLS from the start)."""

    def __init__(self, url: str, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout

    def send(self, message: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self._tls else smtplib.SMTP
        with smtp_class(self._host, self._port, timeout=self._timeout) as smtp:
            smtp.ehlo()
            if not self._tls and (smtp.has_extn("starttls") or self._password):
                smtp.starttls()  # raises if a password would otherwise travel in clear
                smtp.ehlo()
            if self._user is not None:
                smtp.login(self._user, self._password or "")
            smtp.send_message(message)


class LogMailer:
    """Development without SMTP_URL: each message goes to the log instead."""

    def send(self, message: EmailMessage) -> None:
        log.info("E-mail to %s: %s\n%s", message["To"], message["Subject"],
                 message.get_content())

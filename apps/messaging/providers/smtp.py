"""Email over SMTP, through Django's SMTP backend (a connection per message).

A gateway's ``smtp://host:port`` and account override the EMAIL_* settings, so one
bridge can send through more than one relay. The Message-ID we set is the provider id:
it is what a bounce names.
"""

import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid

from .base import GatewayError, Lookup, MessageRejected, OutboundMessage, SendingGateway, Sent

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class SmtpProvider:
    def send(self, gateway: SendingGateway, message: OutboundMessage) -> Sent:
        sender = gateway.sender or settings.DEFAULT_FROM_EMAIL
        message_id = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=sender,
            to=[message.to],
            headers={"Message-ID": message_id},
            connection=_connection(gateway),
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise MessageRejected(f"smtp refused the recipient ({codes})") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # OSError: refused, unreachable, timed out, TLS failed.
            raise GatewayError(f"smtp failed: {type(exc).__name__}: {exc}") from exc
        return Sent(provider_id=message_id)

    def lookup(self, gateway: SendingGateway, message: OutboundMessage) -> tuple[Lookup, str]:
        return Lookup.UNKNOWN, ""


def _connection(gateway: SendingGateway) -> BaseEmailBackend:
    parts = urlsplit(gateway.url) if gateway.url else None
    return get_connection(
        SMTP_BACKEND,
        fail_silently=False,
        host=parts.hostname if parts else settings.EMAIL_HOST,
        port=(parts.port or 25) if parts else settings.EMAIL_PORT,
        username=gateway.username or settings.EMAIL_HOST_USER,
        password=gateway.password or settings.EMAIL_HOST_PASSWORD,
        use_tls=settings.EMAIL_USE_TLS,
        timeout=settings.NOTIFICATION_SEND_TIMEOUT,
    )

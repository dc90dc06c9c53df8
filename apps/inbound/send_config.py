"""How a gateway reaches its provider's sending API, checked before it is stored.

The sending side of a gateway is a handful of fields on the Gateway row (``send_url``,
``send_username``, ``send_password``, ``send_from``, ``priority``); this module is the
one place that says which of them each kind needs and what a right value looks like.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.core.exceptions import ApplicationError

from .models import Gateway

MAX_PRIORITY = 1_000_000
SENDER_ID_MAX = 11  # alphanumeric sender ids: at most 11 characters (GSM 03.40)


@dataclass(frozen=True)
class SendConfig:
    url: str = ""
    username: str = ""
    password: str = ""
    from_: str = ""
    priority: int = 100

    def as_fields(self) -> dict[str, object]:
        return {
            "send_url": self.url,
            "send_username": self.username,
            "send_password": self.password,
            "send_from": self.from_,
            "priority": self.priority,
        }


def send_config_clean(*, kind: str, config: SendConfig) -> SendConfig:
    """``config`` with its values trimmed, or ApplicationError naming the wrong one."""
    cleaned = SendConfig(
        url=config.url.strip().rstrip("/"),
        username=config.username.strip(),
        password=config.password,
        from_=config.from_.strip(),
        priority=config.priority,
    )
    if not 0 <= cleaned.priority <= MAX_PRIORITY:
        raise _invalid(f"priority must be between 0 and {MAX_PRIORITY}.")
    if kind == Gateway.Kind.NATIVE and (cleaned.url or cleaned.username or cleaned.password):
        raise _invalid("A native gateway only receives: it has no sending API.")
    _url_check(kind, cleaned.url)
    _from_check(kind, cleaned.from_)
    if kind == Gateway.Kind.TWILIO and cleaned.username and not cleaned.username.startswith("AC"):
        raise _invalid("A Twilio send username is the Account SID, which starts with AC.")
    if kind == Gateway.Kind.ANDROID and cleaned.url and not cleaned.username:
        raise _invalid("An Android gateway sends with basic auth: give --send-username and --send-password.")
    return cleaned


def _url_check(kind: str, url: str) -> None:
    if not url:
        return
    schemes = {"smtp"} if kind == Gateway.Kind.SMTP else {"http", "https"}
    if kind == Gateway.Kind.CONSOLE:
        raise _invalid("A console gateway sends nowhere: it takes no send URL.")
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        shown = " or ".join(f"{s}://host" for s in sorted(schemes))
        raise _invalid(f"send URL {url!r} is not {shown}[:port][/path].")
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError as exc:
        raise _invalid(f"send URL {url!r} has a bad port.") from exc


def _from_check(kind: str, sender: str) -> None:
    if not sender:
        return
    if kind == Gateway.Kind.SMTP:
        try:
            validate_email(sender)
        except ValidationError as exc:
            raise _invalid(f"{sender!r} is not an email address.") from exc
        return
    digits = sender.removeprefix("+")
    if not (digits.isdigit() and 3 <= len(digits) <= 15) and not (
        sender.isalnum() and len(sender) <= SENDER_ID_MAX
    ):
        raise _invalid(
            f"{sender!r} is neither a phone number nor an alphanumeric sender id of at most "
            f"{SENDER_ID_MAX} characters."
        )


def _invalid(detail: str) -> ApplicationError:
    return ApplicationError(detail, code="invalid")

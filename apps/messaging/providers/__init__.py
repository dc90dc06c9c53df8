"""Sending adapters, one module per gateway kind; ``provider_for(kind)`` picks one."""

from .base import Provider


def provider_for(kind: str) -> Provider:
    from . import android, console, jasmin, smtp, twilio

    adapters: dict[str, Provider] = {
        "android": android.AndroidProvider(),
        "twilio": twilio.TwilioProvider(),
        "jasmin": jasmin.JasminProvider(),
        "smtp": smtp.SmtpProvider(),
        "console": console.ConsoleProvider(),
    }
    try:
        return adapters[kind]
    except KeyError:
        raise LookupError(f"gateway kind {kind!r} does not send") from None

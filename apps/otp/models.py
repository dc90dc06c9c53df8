from django.core.exceptions import ValidationError
from django.db import models

from apps.clients.models import Client
from apps.core.system_settings import PARSERS, otp_template_problem


def _country_codes_check(value: object) -> None:
    if value in ([], None):
        return  # none named: the otp_allowed_country_codes setting applies
    try:
        PARSERS["otp_allowed_country_codes"](value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _template_check(value: str) -> None:
    if value and (problem := otp_template_problem(value)):
        raise ValidationError(f"The template {problem}")


class OtpPolicy(models.Model):
    """What one client may do with one-time codes, where it differs from the system settings.

    Mirrored to Redis (``otp_policies``) on every save, so the request path reads it
    without SQL; a change reaches every web process within CREDENTIAL_LOCAL_CACHE_SECONDS.
    """

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="otp_policy")
    allowed_country_codes = models.JSONField(
        default=list,
        blank=True,
        validators=[_country_codes_check],
        help_text='Countries this client may send codes to, as ["91", "44"]; empty: the '
        "otp_allowed_country_codes setting.",
    )
    message_template = models.TextField(
        blank=True,
        validators=[_template_check],
        help_text="The SMS carrying a code, with {code} and optionally {minutes}; empty: the "
        "otp_message_template setting.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "OTP policy"
        verbose_name_plural = "OTP policies"

    def __str__(self) -> str:
        return f"OTP policy of {self.client}"


class OtpSafeNumber(models.Model):
    """A number exempt from the OTP velocity rules (a support team's or tester's phone).

    Mirrored to the Redis set ``otp_safe_numbers``; the Redis repair rebuilds it from here.
    """

    mobile = models.CharField(
        max_length=32, unique=True, help_text="As the bridge keys it: 9876543210 or +44..."
    )
    note = models.CharField(max_length=200, blank=True, help_text="Whose number, and why it is safe.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mobile"]
        verbose_name = "OTP safe number"

    def __str__(self) -> str:
        return self.mobile

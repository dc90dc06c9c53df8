import json
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from apps.clients.models import Client
from apps.clients.selectors import client_get
from apps.core import keys
from apps.core.commands import OperatorCommand
from apps.core.exceptions import ApplicationError
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis
from apps.core.registry import SMS_VALIDATE, work_wake
from apps.core.timeutil import iso_utc
from apps.inbound.models import Gateway
from apps.inbound.services import InboundSms, gateway_lookup, sms_enqueue
from apps.onboarding.services.registration import number_register

from .bootstrap_demo import DEMO_CLIENT


class Command(OperatorCommand):
    help = (
        "Demo the whole flow for MOBILE: register it for a client, deliver ONBOARD:<hash> through a native "
        "gateway, wait for a worker's verdict and print it. Needs a running Celery worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mobile")
        parser.add_argument("--client", help="Client id (default: the demo client)")
        parser.add_argument("--message", help="Send this body instead of the correct ONBOARD:<hash>")
        parser.add_argument("--timeout", type=float, default=15.0, help="Seconds to wait for the verdict")

    def handle(self, *args: Any, **options: Any) -> None:
        mobile = mobile_parse(options["mobile"])
        client = self._client(options["client"])
        try:
            registration = number_register(mobile=mobile, client_id=str(client.id))
        except ApplicationError as exc:
            raise CommandError(f"register refused ({exc.code}): {exc.detail}") from exc
        self.stdout.write(
            f"registered {mobile.key}: {registration.sms_body} (expires {iso_utc(registration.expires_at)})"
        )
        body = options["message"] or registration.sms_body
        sms = InboundSms(mobile.e164, body, timezone.now(), f"simulate-{time.time_ns()}")
        result = sms_enqueue(gateway=self._gateway(), sms=sms)
        work_wake(SMS_VALIDATE)
        self.stdout.write(f"delivered SMS {result.uuid} through the native gateway; waiting for the verdict")
        verdict = self._wait(result.uuid, options["timeout"])
        self.stdout.write(json.dumps({"sms_uuid": result.uuid, "mobile_number": mobile.key, **verdict}))

    def _client(self, client_id: str | None) -> Client:
        if client_id:
            return client_get(client_id=client_id)
        client = Client.objects.filter(name__iexact=DEMO_CLIENT).first()
        if client is None:
            raise CommandError("No demo client: run `manage.py bootstrap_demo` or pass --client.")
        return client

    def _gateway(self) -> Any:
        gateway = Gateway.objects.filter(kind=Gateway.Kind.NATIVE, is_active=True).first()
        record = gateway and gateway_lookup(gateway_id=str(gateway.id), kind=gateway.kind)
        if not record:
            raise CommandError("No native gateway: run `manage.py create_gateway native NAME`.")
        return record

    def _wait(self, sms_uuid: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = get_redis().get(keys.sms_verdict(sms_uuid))
            if raw:
                return json.loads(raw)
            time.sleep(0.1)
        raise CommandError(f"No verdict after {timeout:.0f} s: is a Celery worker running (make run)?")

"""SMS delivered while Redis is away, through every gateway kind, with a real worker and
beat: all acknowledged, kept in PostgreSQL, and judged exactly once, in order, after Redis
comes back with its data (AOF)."""

import time
from typing import Any

import pytest

from apps.audit.models import MonitorEvent
from apps.clients.services import client_create
from apps.core import keys
from apps.inbound.models import InboundOutbox
from apps.inbound.services import gateway_create
from apps.onboarding.models import OutSms
from tests.helpers import GatewayCreds, send_android, send_jasmin, send_native, send_twilio
from tests.polling import wait_for
from tests.processes import cluster

pytestmark = pytest.mark.slow

KINDS = ("native", "android", "twilio", "jasmin")
NUMBERS = [f"98765{n:05d}" for n in range(20)]


def _deliver(api: Any, gateway: GatewayCreds, number: str, body: str, n: int) -> Any:
    sender = f"+91{number}"
    if gateway.kind == "native":
        return send_native(api, gateway.secret, sender, body, message_id=f"native-{n}")
    if gateway.kind == "android":
        return send_android(api, gateway, sender, body, event_id=f"android-{n}")
    if gateway.kind == "twilio":
        return send_twilio(api, gateway, sender, body, sid=f"SM{n:032d}")
    return send_jasmin(api, gateway, sender, body, message_id=f"jasmin-{n}")


@pytest.mark.parametrize("outage", ["refused", "stopped"])
def test_sms_delivered_through_each_gateway_kind_during_a_redis_outage_are_judged_once_in_order(
    outage, database_url, settings, api
):
    with cluster(database_url, appendonly=True, SMS_OUTBOX_FLUSH_INTERVAL="0.5") as c:
        c.use_in(settings)
        c.data().set(keys.redis_ready(), time.time())
        client, key = client_create(name="outbox-test")
        gateways = [GatewayCreds(*gateway_create(kind=kind, name=f"outbox {kind}")) for kind in KINDS]
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        bodies = [api.get(f"/onboard/register/{number}", **auth).json()["sms_body"] for number in NUMBERS]
        c.worker()
        c.beat()

        if outage == "refused":
            c.redis.kill()  # AOF keeps the registrations for the restart
        else:
            c.redis.pause()  # hung: SIGSTOP
        for n, (number, body) in enumerate(zip(NUMBERS, bodies, strict=True)):
            response = _deliver(api, gateways[n % len(KINDS)], number, body, n)
            assert response.status_code in {200, 202}, response.content
        again = _deliver(api, gateways[0], NUMBERS[0], bodies[0], 0)  # a repeat, during the outage
        assert again.status_code == 202 and again.json()["duplicate"]
        expected = [str(row.sms_uuid) for row in InboundOutbox.objects.order_by("id")]
        assert len(expected) == len(NUMBERS)

        c.redis.start() if outage == "refused" else c.redis.resume()
        wait_for(
            lambda: MonitorEvent.objects.filter(sms_uuid__in=expected).count() >= len(expected),
            timeout=60,
            message=lambda: "verdicts of the outbox SMS\n" + c.logs(),
        )
        time.sleep(2)  # a second verdict of any SMS would arrive meanwhile
        verdicts = list(MonitorEvent.objects.filter(sms_uuid__in=expected).order_by("id"))
        assert [v.sms_uuid for v in verdicts] == expected  # each once, in the order delivered
        assert {v.status for v in verdicts} == {"valid"}
        wait_for(lambda: OutSms.objects.count() == len(NUMBERS), timeout=30, message="out_sms rows")
        assert not InboundOutbox.objects.exists()
        assert client.id

"""INBOUND_ACK_REPLICAS: a gateway is acknowledged once a replica has the SMS (WAIT); when
none confirms in INBOUND_ACK_WAIT_MS, PostgreSQL keeps a copy first, and the outbox move
drops that copy while the primary still has the SMS."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from apps.core import keys
from apps.inbound.models import InboundOutbox
from apps.inbound.outbox import sms_outbox_flush
from tests.helpers import send_native
from tests.polling import wait_for
from tests.processes import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # private redis-servers


@pytest.fixture
def primary_and_replica(tmp_path: Path, settings: Any) -> Iterator[tuple[RedisServer, RedisServer]]:
    (tmp_path / "p").mkdir()
    (tmp_path / "r").mkdir()
    primary = RedisServer(tmp_path / "p")
    primary.start()
    replica = RedisServer(tmp_path / "r", args=("--replicaof", "127.0.0.1", str(primary.port)))
    replica.start()
    settings.REDIS_URL = primary.url(0)
    settings.INBOUND_ACK_REPLICAS = 1
    settings.INBOUND_ACK_WAIT_MS = 200
    r = redis.Redis(port=primary.port)
    replica_info = redis.Redis(port=replica.port).info
    wait_for(lambda: replica_info("replication")["master_link_status"] == "up", timeout=10, message="replica")
    r.set(keys.redis_ready(), time.time())
    try:
        yield primary, replica
    finally:
        replica.kill()
        primary.kill()


def test_with_a_replica_the_gateway_is_acknowledged_once_the_replica_has_the_sms(
    primary_and_replica, make_gateway, api
):
    _, replica = primary_and_replica
    gateway = make_gateway("native")

    response = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1")

    assert response.status_code == 202
    assert redis.Redis(port=replica.port).llen(keys.sms_inbound_queue()) == 1  # there already
    assert not InboundOutbox.objects.exists()


def test_when_no_replica_confirms_in_time_postgresql_keeps_a_copy_the_move_then_drops(
    primary_and_replica, make_gateway, api
):
    primary, replica = primary_and_replica
    gateway = make_gateway("native")
    replica.pause()

    start = time.monotonic()
    response = send_native(api, gateway.secret, "9876543210", "hello", message_id="m-1")
    took = time.monotonic() - start

    assert response.status_code == 202
    assert took >= 0.2  # it waited INBOUND_ACK_WAIT_MS for the replica
    assert InboundOutbox.objects.count() == 1
    assert sms_outbox_flush() == 0  # the primary has it: the dedupe mark drops the copy
    assert redis.Redis(port=primary.port).llen(keys.sms_inbound_queue()) == 1
    assert not InboundOutbox.objects.exists()

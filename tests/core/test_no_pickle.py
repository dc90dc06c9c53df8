"""Nothing Redis can hand back is unpickled: after a whole flow, no value in any of the
suite's Redis databases is a pickle (protocol 2+ pickles start with b"\\x80")."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from apps.abuse.tasks import blacklist_expire_task
from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import CACHE_KEY, system_settings_get, system_settings_invalidate
from tests.helpers import send_native
from tests.polling import wait_for

pytestmark = pytest.mark.slow  # the session's real worker and beat

PICKLE_MARK = b"\x80"


def values(client: redis.Redis) -> Iterator[tuple[Any, bytes]]:
    """(key, value) for every value of every key, whatever its type."""
    for key in client.scan_iter(count=1000):
        for item in _items(client, key):
            if item is not None:
                yield key, item


def _items(client: redis.Redis, key: Any) -> list[Any]:
    kind = client.type(key)
    if kind == b"string":
        return [client.get(key)]
    if kind == b"list":
        return list(client.lrange(key, 0, -1))
    if kind == b"hash":
        return [*client.hkeys(key), *client.hvals(key)]
    if kind == b"set":
        return list(client.smembers(key))
    if kind == b"zset":
        return list(client.zrange(key, 0, -1))
    if kind == b"stream":
        return [v for _, entry in client.xrange(key) or [] for v in (entry or {}).values()]
    return []


def test_after_a_whole_flow_no_redis_value_is_a_pickle(
    api, celery_worker, make_client, make_gateway, httpserver
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    creds = make_client(webhook_url=httpserver.url_for("/hook"))
    gateway = make_gateway("native")
    registration = api.get("/onboard/register/9876543210", **creds.auth).json()
    uuid = send_native(api, gateway.secret, "+919876543210", registration["sms_body"]).json()["uuid"]
    verdict = wait_for(
        lambda: get_redis().get(keys.sms_verdict(uuid)), timeout=20, message=celery_worker.logs
    )
    assert json.loads(verdict)["status"] == "valid"
    wait_for(lambda: httpserver.log, timeout=20, message=celery_worker.logs)
    assert blacklist_expire_task.delay().get(timeout=30) >= 0  # a stored task result too
    system_settings_invalidate()
    system_settings_get()  # the settings, as every process caches them

    stored = cache.get(CACHE_KEY)
    assert isinstance(stored, dict) and stored["salt_length"] == 16

    urls = [
        settings.REDIS_URL,
        settings.CELERY_BROKER_URL,
        settings.CELERY_RESULT_BACKEND,
        settings.CACHE_URL,
    ]
    seen = 0
    for url in urls:
        client = redis.Redis.from_url(url)
        for key, value in values(client):
            seen += 1
            assert not value.startswith(PICKLE_MARK), f"{url} {key!r} holds a pickle: {value[:40]!r}"
    assert seen > 10, "the flow left nothing to look at"

"""Nothing Redis can hand back is unpickled: after a whole flow, no value in any of the
suite's Redis databases is a pickle (protocol 2+ pickles start with b"\\x80")."""

import json
from collections.abc import Iterator

import redis
from django.conf import settings
from django.core.cache import cache

from apps.abuse.tasks import blacklist_expire_task
from apps.core import keys
from apps.core.redis import get_redis
from apps.core.system_settings import CACHE_KEY, system_settings_get, system_settings_invalidate
from tests.conftest import wait_for
from tests.helpers import send_native

PICKLE_MARK = b"\x80"


def values(client: redis.Redis) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for every value of every key, whatever its type."""
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            items = [client.get(key)]
        elif kind == b"list":
            items = client.lrange(key, 0, -1)
        elif kind == b"hash":
            items = [*client.hkeys(key), *client.hvals(key)]
        elif kind == b"set":
            items = list(client.smembers(key))
        elif kind == b"zset":
            items = client.zrange(key, 0, -1)
        elif kind == b"stream":
            items = [v for _, entry in client.xrange(key) for v in entry.values()]
        else:
            items = []
        for item in items:
            if item is not None:
                yield key, item


def test_after_a_whole_flow_no_redis_value_is_a_pickle(
    api, celery_worker, make_client, make_gateway, httpserver
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    creds = make_client(webhook_url=httpserver.url_for("/hook"))
    gateway = make_gateway("native")
    registration = api.get("/onboard/register/9876543210", **creds.auth).json()
    uuid = send_native(api, gateway.secret, "+919876543210", registration["sms_body"]).json()["uuid"]
    verdict = wait_for(
        lambda: get_redis().get(keys.sms_verdict(uuid)), timeout=20, message=celery_worker.logs()
    )
    assert json.loads(verdict)["status"] == "valid"
    wait_for(lambda: httpserver.log, timeout=20, message=celery_worker.logs())
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

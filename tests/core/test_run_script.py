"""``run_script`` sends EVALSHA straight to a pooled connection: it must still answer as
redis-py's Script does when Redis has lost the script, when the pooled connection was
closed under it, and when Redis refuses the script, and stay behind the breaker."""

import pytest
import redis

from apps.core.redis import data_breaker, get_redis, run_script

SOURCE = "redis.call('INCRBY', KEYS[1], ARGV[1]) return {redis.call('GET', KEYS[1]), ARGV[2]}\n"


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "count.lua"  # an absolute path: apps/ joined with it is the path itself
    path.write_text(SOURCE)
    return str(path)


def test_it_runs_the_script_with_its_keys_and_arguments(script):
    assert run_script(script, keys=["t:count"], args=[2, "é"]) == ["2", "é"]
    assert run_script(script, keys=["t:count"], args=[3, "x"]) == ["5", "x"]


def test_a_redis_that_lost_its_scripts_gets_it_again(script):
    run_script(script, keys=["t:count"], args=[1, "a"])
    get_redis().script_flush()

    assert run_script(script, keys=["t:count"], args=[1, "b"]) == ["2", "b"]


def test_a_pooled_connection_closed_by_redis_is_replaced_and_the_script_runs_once(script):
    run_script(script, keys=["t:count"], args=[1, "a"])
    own = get_redis().client_id()  # the pooled connection this thread gets back
    kwargs = get_redis().connection_pool.connection_kwargs
    killer = redis.Redis(host=kwargs["host"], port=kwargs["port"], db=kwargs["db"])
    assert killer.client_kill_filter(_id=str(own)) == 1
    killer.close()

    assert run_script(script, keys=["t:count"], args=[1, "b"]) == ["2", "b"]


def test_a_refused_script_raises_redis_error_and_leaves_the_breaker_closed(script):
    get_redis().set("t:count", "not a number")

    with pytest.raises(redis.ResponseError):
        run_script(script, keys=["t:count"], args=[1, "a"])
    assert not data_breaker().is_open

"""deploy/redis.conf, parsed and, where installed, loaded by a private redis-server."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.deploy.helpers import REDIS_CONF, redis_conf


def test_redis_conf_is_durable_and_never_evicts() -> None:
    settings = redis_conf()
    assert settings["appendonly"] == "yes"
    assert settings["appendfsync"] == "everysec"
    assert settings["maxmemory-policy"] == "noeviction"
    assert settings["maxmemory"]
    assert "requirepass" in REDIS_CONF.read_text(), "explain how to set a password"


@pytest.mark.slow  # a private redis-server
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_server_loads_redis_conf(tmp_path: Path) -> None:
    socket_path, log = tmp_path / "redis.sock", tmp_path / "redis.log"
    process = subprocess.Popen(
        [
            *["redis-server", str(REDIS_CONF), "--port", "0", "--bind", "127.0.0.1"],
            *["--unixsocket", str(socket_path), "--dir", str(tmp_path), "--logfile", str(log)],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            output = log.read_text() if log.exists() else ""
            assert process.poll() is None, f"redis-server refused deploy/redis.conf:\n{output}"
            assert time.monotonic() < deadline, f"redis-server did not start:\n{output}"
            time.sleep(0.05)
        client = redis.Redis(unix_socket_path=str(socket_path), decode_responses=True)
        try:
            assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
            assert client.config_get("appendonly") == {"appendonly": "yes"}
        finally:
            client.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

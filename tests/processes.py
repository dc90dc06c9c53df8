"""Processes a test starts and stops itself, always by its own process id.

A ``Cluster`` is a private Redis server (on a free port, no persistence) with Celery
worker and beat processes wired to it and to the test PostgreSQL database, so a test
can kill -9 any of them, or the Redis server, without touching anything else.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from tests.polling import wait_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(
        self,
        workdir: Path,
        *,
        appendonly: bool = False,
        appendfsync: str = "everysec",
        args: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.args = args  # more redis-server options: ("--replicaof", "127.0.0.1", "6390")
        self.appendonly = appendonly  # True: a restart loads the data back (AOF), as deployed
        self.appendfsync = appendfsync
        self.proc: subprocess.Popen | None = None

    def start(self, *, wait: bool = True) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", self.appendfsync,
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log"), *self.args],
            start_new_session=True,
        )  # fmt: skip
        if wait:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
            wait_for(lambda: _pings(client), timeout=10, message=f"redis on port {self.port}")

    def pause(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but never answered (a hung Redis)."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """kill -9: without AOF Redis loses everything, like a crashed instance."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a stopped process dies only once continued
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class CeleryProcess:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        handle = self.log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "smsbridge", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes its pool children too
        )

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()

    @property
    def alive(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)


class Cluster:
    def __init__(
        self, database_url: str, extra_env: dict[str, str] | None = None, *, appendonly: bool = False
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="smsbridge-cluster-"))
        self.redis = RedisServer(self.workdir, appendonly=appendonly)
        self.redis.start()
        self.env = dict(os.environ)
        self.env.update(
            DJANGO_SETTINGS_MODULE="smsbridge.settings_test",
            DATABASE_URL=database_url,
            REDIS_URL=self.redis.url(0),
            CELERY_BROKER_URL=self.redis.url(1),
            CELERY_RESULT_BACKEND=self.redis.url(2),
            CACHE_URL=self.redis.url(3),
            PYTHONUNBUFFERED="1",
            **(extra_env or {}),
        )
        self.workers: list[CeleryProcess] = []
        self.beats: list[CeleryProcess] = []

    def worker(self, concurrency: int = 2) -> CeleryProcess:
        n = len(self.workers)
        args = [
            "worker",
            "--loglevel",
            "INFO",
            "-c",
            str(concurrency),
            "-O",
            "fair",
            "--hostname",
            f"w{n}@%h",
        ]
        proc = CeleryProcess(args, self.env, self.workdir / f"worker{n}.log")
        proc.start()
        self.workers.append(proc)
        return proc

    def beat(self) -> CeleryProcess:
        proc = CeleryProcess(
            ["beat", "--loglevel", "INFO"], self.env, self.workdir / f"beat{len(self.beats)}.log"
        )
        proc.start()
        self.beats.append(proc)
        return proc

    def data(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis.url(0), decode_responses=True)

    def dump_stacks(self) -> None:
        """Ask every live Celery process to print its threads' stacks into its log."""
        for proc in self.workers + self.beats:
            if proc.alive and proc.proc:
                os.kill(proc.proc.pid, signal.SIGUSR2)
        time.sleep(1)

    def logs(self) -> str:
        keep = int(os.environ.get("CLUSTER_LOG_CHARS", "3000"))
        return "\n".join(f"--- {p.name}\n{p.read_text()[-keep:]}" for p in sorted(self.workdir.glob("*.log")))

    def use_in(self, settings: Any) -> None:
        """Point this test process's Django (pytest-django ``settings``) at the cluster's Redis."""
        settings.REDIS_URL = self.redis.url(0)
        settings.CELERY_BROKER_URL = self.redis.url(1)
        settings.CELERY_RESULT_BACKEND = self.redis.url(2)
        settings.CACHE_URL = self.redis.url(3)

    def stop(self) -> None:
        for proc in self.beats + self.workers:
            proc.stop()
        self.redis.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


class TcpProxy:
    """A loopback TCP proxy a test can cut, to make a server unreachable for a while."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.up = True
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        self.up = False
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass
            self._conns.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self._server.close()


@contextmanager
def cluster(database_url: str, *, appendonly: bool = False, **extra_env: str) -> Iterator[Cluster]:
    c = Cluster(database_url, extra_env, appendonly=appendonly)
    try:
        yield c
    finally:
        c.stop()


@contextmanager
def gunicorn_server(
    database_url: str, log: Path, *, threads: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A real gunicorn serving the app as deploy/ starts it (its config, one gthread worker)
    against the suite's settings, on a free port: its base URL while the block runs. Stopped
    by its own process group, whatever it started."""
    port = free_port()
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smsbridge.settings_test",
        "DATABASE_URL": database_url,
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "smsbridge.wsgi:application"),
                *("--config", "python:smsbridge.gunicorn_conf", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "1", "--threads", str(threads)),
            ],
            cwd=ROOT,
            env={**environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _live(base) or proc.poll() is not None, timeout=60, message="gunicorn to answer")
        assert proc.poll() is None, log.read_text()
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _live(base: str) -> bool:
    import requests

    try:
        return requests.get(base + "/health/live", timeout=1).status_code == 200
    except requests.RequestException:
        return False

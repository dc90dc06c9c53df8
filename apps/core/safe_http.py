"""Outbound HTTP to URLs that other people choose (client webhooks), with three bounds.

- Where: unless ``allow_private_networks``, the destination's address is checked after
  DNS resolution and refused when loopback, private, link-local (cloud metadata at
  169.254.169.254) or otherwise reserved. requests-hardened does this at connect time
  and connects to the very address it checked, so DNS rebinding cannot swap it.
- How long: one deadline for the whole exchange. Per-read timeouts do not bound a
  server that drips a byte just before each would fire; a timer shuts the exchange's
  sockets down when the deadline passes, which ends any blocked read, in the headers
  or in the body.
- How much: the body is read as a stream and at most ``max_body_bytes`` are kept, so a
  50 MB answer costs a worker no more memory than a short one.
"""

import contextvars
import ipaddress
import socket
import threading
from dataclasses import dataclass

import requests
from requests_hardened import Config, HTTPSession  # type: ignore[import-untyped]
from requests_hardened.ip_filter import InvalidIPAddress  # type: ignore[import-untyped]
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

READ_CHUNK_BYTES = 1024


@dataclass(frozen=True)
class HttpReply:
    status_code: int
    body: bytes  # the first max_body_bytes at most


class OutboundHttpError(Exception):
    """No answer was had; the message says why, in words an operator can act on."""


class DestinationRefused(OutboundHttpError):
    """The destination resolved to an address that outbound requests must not reach."""


def http_post_bounded(
    *,
    url: str,
    body: bytes,
    headers: dict[str, str],
    deadline_seconds: float,
    max_body_bytes: int,
    allow_private_networks: bool,
) -> HttpReply:
    """POST ``body`` to ``url``; the reply, or OutboundHttpError. Redirects are not followed."""
    deadline = _Deadline(deadline_seconds)
    token = _current_deadline.set(deadline)
    try:
        with _session(allow_private_networks=allow_private_networks) as session:
            response = session.post(
                url, data=body, headers=headers, timeout=deadline_seconds, stream=True, allow_redirects=False
            )
            with response:
                reply = HttpReply(response.status_code, _read_at_most(response, max_body_bytes))
    except InvalidIPAddress as exc:
        raise DestinationRefused(_refusal(str(exc))) from exc
    except requests.RequestException as exc:
        if deadline.expired:
            raise OutboundHttpError(_too_late(deadline_seconds)) from exc
        raise OutboundHttpError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        deadline.cancel()
        _current_deadline.reset(token)
    if deadline.expired:
        # Cut mid-headers, http.client takes the end of the stream for the end of the
        # headers: what it returned is not an answer.
        raise OutboundHttpError(_too_late(deadline_seconds))
    return reply


def _too_late(seconds: float) -> str:
    return f"no complete answer within {seconds:g} s (deadline)"


def _read_at_most(response: requests.Response, limit: int) -> bytes:
    kept: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=READ_CHUNK_BYTES):
        kept.append(chunk)
        size += len(chunk)
        if size >= limit:
            break  # closing the response drops the rest unread
    return b"".join(kept)[:limit]


def _refusal(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"destination {address} is not a public address; refused"
    if ip.is_loopback:
        kind = "a loopback"
    elif ip.is_link_local:
        kind = "a link-local (cloud metadata)"
    else:
        kind = "a private or reserved"
    return f"destination {ip} is {kind} address; refused"


def _session(*, allow_private_networks: bool) -> requests.Session:
    session = HTTPSession(
        Config(
            ip_filter_enable=not allow_private_networks,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=None,
        )
    )
    # No proxy from the environment (it would bypass the deadline's sockets) and no
    # .netrc credentials sent to somebody else's URL.
    session.trust_env = False
    for adapter in session.adapters.values():
        adapter.poolmanager.pool_classes_by_scheme = DEADLINE_POOLS
    return session


# --- the deadline ------------------------------------------------------------------------
class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread; close() would not
    except OSError:
        pass  # already closed: nothing left to cut


_current_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "outbound_http_deadline", default=None
)


class _WatchedConnectionMixin:
    """Hands each new socket to the deadline of the exchange that opened it."""

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.watch(sock)
        return sock


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


DEADLINE_POOLS = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}

"""gunicorn configuration for the web process: ``gunicorn -c python:smsbridge.gunicorn_conf ...``.

Every deploy file starts gunicorn with it, so the access log is the same everywhere:
one line a request, with the path but never the query string (Jasmin gateways send
their token as ``?token=``) and mobile numbers masked (paths like
/onboard/register/9876543210 carry them). Options given on the command line
(--bind, --threads, ...) still override these.
"""

from typing import Any

from gunicorn.glogging import Logger

from apps.core.logging import MaskMobileFilter

accesslog = "-"
# Method, path (no query), protocol, status, bytes, duration in ms, user agent.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


# Atoms that hold a query string (or, for the referer, another site's).
QUERY_ATOMS = ("q", "f", "{raw_uri}e", "{query_string}e", "{referer}i")


class MaskedAccessLogger(Logger):
    """gunicorn's logger, with atoms that cannot leak a query string or a raw number.

    Even an --access-logformat that names %(r)s, %(q)s or a Referer stays safe: the
    request line loses its query, the query and the referer are dropped, and each line
    goes through the same mobile-number filter as the application's own logs.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, MaskMobileFilter) for f in self.access_log.filters):
            self.access_log.addFilter(MaskMobileFilter())

    def atoms(self, resp: Any, req: Any, wsgi_env: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, wsgi_env, request_time)
        method, path, protocol = (
            wsgi_env.get(name, "") for name in ("REQUEST_METHOD", "PATH_INFO", "SERVER_PROTOCOL")
        )
        atoms["r"] = f"{method} {path} {protocol}"
        for name in QUERY_ATOMS:
            atoms[name] = "-"
        return atoms


logger_class = MaskedAccessLogger

import hmac

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from .authentication import bearer_token
from .exceptions import ApplicationError
from .health import WORKER_STATES, health_report, redis_status
from .metrics import metrics_exposition
from .rendering import answer
from .serializers import FlatOutputSerializer


class HealthApi(APIView):
    """Overall health for people and dashboards: always 200, ``degraded`` when a part is down.

    ``background_workers`` is ``starting`` (and the bridge still healthy) from the moment
    beat or the housekeeping worker starts until its first heartbeat, for at most
    HEARTBEAT_STALE_AFTER seconds.
    """

    class OutputSerializer(FlatOutputSerializer):
        status = serializers.ChoiceField(choices=["healthy", "degraded"])
        redis = serializers.CharField()
        database = serializers.CharField()
        background_workers = serializers.ChoiceField(choices=list(WORKER_STATES))

        class Meta:
            ref_name = "Health"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> HttpResponse:
        return answer(request, self.OutputSerializer.represent(health_report()))


class MetricsApi(APIView):
    """Prometheus text exposition, for scrapers that send METRICS_TOKEN as a bearer token.

    Queue names, client counts and error rates tell an attacker a lot, so without a token
    the endpoint is open only when the operator says so (METRICS_PUBLIC=1) or in debug.
    """

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        _metrics_access_check(sent=bearer_token(request))
        return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)


def _metrics_access_check(*, sent: str) -> None:
    token = settings.METRICS_TOKEN
    if token:
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise ApplicationError(
                "A valid metrics token is required.", code="not_authenticated", status_code=401
            )
    elif not (settings.METRICS_PUBLIC or settings.DEBUG):
        raise ApplicationError(
            "Metrics are not published: set METRICS_TOKEN (or METRICS_PUBLIC=1).",
            code="metrics_not_configured",
            status_code=403,
        )


class HealthLiveApi(APIView):
    """Liveness for orchestrators: the process answers HTTP."""

    class OutputSerializer(FlatOutputSerializer):
        status = serializers.CharField()

        class Meta:
            ref_name = "Live"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> HttpResponse:
        return answer(request, self.OutputSerializer.represent({"status": "ok"}))


class HealthReadyApi(APIView):
    """Readiness: 503 while Redis, which the hot path needs, is unreachable."""

    class OutputSerializer(FlatOutputSerializer):
        status = serializers.CharField()
        redis = serializers.CharField()

        class Meta:
            ref_name = "Ready"

    @extend_schema(responses={200: OutputSerializer, 503: OutputSerializer})
    def get(self, request: Request) -> HttpResponse:
        state = redis_status()
        ready = state == "ok"
        body = {"status": "ready" if ready else "not_ready", "redis": state}
        return answer(request, self.OutputSerializer.represent(body), status=200 if ready else 503)

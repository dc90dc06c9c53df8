from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import health_report, redis_status


class HealthApi(APIView):
    """Overall health for people and dashboards: always 200, ``degraded`` when a part is down."""

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(choices=["healthy", "degraded"]),
                "redis": serializers.CharField(),
                "database": serializers.CharField(),
                "background_workers": serializers.CharField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        return Response(health_report())


class HealthLiveApi(APIView):
    """Liveness for orchestrators: the process answers HTTP."""

    @extend_schema(responses=inline_serializer("Live", {"status": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


READY = inline_serializer("Ready", {"status": serializers.CharField(), "redis": serializers.CharField()})


class HealthReadyApi(APIView):
    """Readiness: 503 while Redis, which the hot path needs, is unreachable."""

    @extend_schema(responses={200: READY, 503: READY})
    def get(self, request: Request) -> Response:
        state = redis_status()
        ready = state == "ok"
        return Response(
            {"status": "ready" if ready else "not_ready", "redis": state}, status=200 if ready else 503
        )

"""Client endpoints of reverse-SMS onboarding: thin views over the registration services."""

import io
from collections.abc import Iterable

import segno
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from apps.clients.authentication import ClientApi
from apps.core.exceptions import ApplicationError
from apps.core.phone import mobile_parse
from apps.core.rendering import answer
from apps.core.schema import errors
from apps.core.serializers import FlatOutputSerializer, IsoUtcField, SharedFieldsSerializer, query_validated

from .selectors import number_status, pending_sms_link
from .services.registration import REFERENCE_MAX_LENGTH, number_register


class RegistrationQuerySerializer(SharedFieldsSerializer):
    registration_id = serializers.UUIDField(
        required=False, help_text="A registration of this client; default: its newest."
    )

    class Meta:
        ref_name = "RegistrationQuery"


def _registration_id(request: Request) -> str | None:
    found = query_validated(RegistrationQuerySerializer, request.query_params).get("registration_id")
    return str(found) if found else None


class NumberRegisterApi(ClientApi):
    class InputSerializer(SharedFieldsSerializer):
        reference = serializers.CharField(
            max_length=REFERENCE_MAX_LENGTH,
            required=False,
            allow_blank=True,
            help_text="Opaque text of yours (an account id, say), echoed in the callback.",
        )

        class Meta:
            ref_name = "RegisterQuery"

    class OutputSerializer(FlatOutputSerializer):
        registration_id = serializers.UUIDField(help_text="This registration; the callback names it.")
        mobile_number = serializers.CharField(source="mobile.key")
        hash = serializers.CharField()
        expires_at = IsoUtcField(help_text="ISO 8601 UTC with Z")
        status = serializers.CharField()
        sms_body = serializers.CharField()
        sms_to = serializers.CharField()
        sms_link = serializers.CharField()

        class Meta:
            ref_name = "Registration"

    @extend_schema(
        parameters=[InputSerializer],
        responses={200: OutputSerializer, **errors(400, 401, 403, 409, 429, 503)},
        operation_id="onboard_register",
        summary="Register a number for reverse-SMS onboarding",
    )
    def get(self, request: Request, mobile_number: str) -> HttpResponse:
        query = query_validated(self.InputSerializer, request.query_params)
        registration = number_register(
            mobile=mobile_parse(mobile_number),
            client_id=self.client_id(request),
            reference=query.get("reference", ""),
        )
        return answer(
            request, self.OutputSerializer.represent(registration), headers=registration.rate_limit.headers
        )


class NumberStatusApi(ClientApi):
    class OutputSerializer(FlatOutputSerializer):
        mobile_number = serializers.CharField(source="mobile.key")
        registration_id = serializers.UUIDField()
        status = serializers.ChoiceField(choices=["pending", "verified", "expired", "blacklisted", "unknown"])

        class Meta:
            ref_name = "NumberStatus"

    @extend_schema(
        parameters=[RegistrationQuerySerializer],
        responses={200: OutputSerializer, **errors(400, 401, 404, 503)},
        operation_id="onboard_status",
        summary="Where this client's registration of a number stands",
    )
    def get(self, request: Request, mobile_number: str) -> HttpResponse:
        found = number_status(
            mobile=mobile_parse(mobile_number),
            client_id=self.client_id(request),
            registration_id=_registration_id(request),
        )
        return answer(request, self.OutputSerializer.represent(found))


class ImageFormatNegotiation(BaseContentNegotiation):
    """``?format=`` picks the image type here, not a DRF renderer; errors render as JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> None:
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class NumberQrApi(ClientApi):
    """The pending registration's ``sms_link`` as a QR code: SVG, or PNG with ?format=png."""

    content_negotiation_class = ImageFormatNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["svg", "png"], required=False),
            RegistrationQuerySerializer,
        ],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The QR code as SVG"),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The QR code as PNG"),
            **errors(400, 401, 404),
        },
        operation_id="onboard_qr",
        summary="QR code of a pending registration's sms: link",
    )
    def get(self, request: Request, mobile_number: str) -> HttpResponse:
        image_format = request.query_params.get("format", "svg").lower()
        if image_format not in {"svg", "png"}:
            raise ApplicationError("format must be svg or png.", code="invalid")
        link = pending_sms_link(
            mobile=mobile_parse(mobile_number),
            client_id=self.client_id(request),
            registration_id=_registration_id(request),
        )
        buffer = io.BytesIO()
        segno.make(link, error="m").save(buffer, kind=image_format, scale=6, border=2)
        content_type = "image/svg+xml" if image_format == "svg" else "image/png"
        return HttpResponse(buffer.getvalue(), content_type=content_type)

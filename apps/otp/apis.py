"""Client endpoints of one-time passwords: thin views over the OTP services."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request

from apps.clients.authentication import ClientApi
from apps.core.phone import MAX_INPUT_LENGTH, mobile_parse
from apps.core.rendering import OrjsonParser, answer
from apps.core.schema import ErrorSerializer, errors
from apps.core.serializers import FlatOutputSerializer, IsoUtcField, StrictSerializer

from .selectors import otp_status
from .services.codes import IP_MAX_LENGTH
from .services.request import otp_request
from .services.verify import otp_verify

ACTIVE = {
    409: OpenApiResponse(
        ErrorSerializer, description="A code is still active; retry_after says for how long."
    )
}
GONE = {
    410: OpenApiResponse(ErrorSerializer, description="No code alive: expired, used, or never requested.")
}
END_USER_IP_HELP = (
    "The address of the person asking, when you know it: limits then also count per address (IPv6: per /64)."
)


class OtpRequestApi(ClientApi):
    parser_classes = [OrjsonParser]

    class InputSerializer(StrictSerializer):
        mobile_number = serializers.CharField(max_length=MAX_INPUT_LENGTH)
        end_user_ip = serializers.CharField(
            max_length=IP_MAX_LENGTH, required=False, allow_blank=True, help_text=END_USER_IP_HELP
        )

        class Meta:
            ref_name = "OtpRequest"

    class OutputSerializer(FlatOutputSerializer):
        mobile_number = serializers.CharField(source="mobile.key")
        expires_in_seconds = serializers.IntegerField()
        expires_at = IsoUtcField(help_text="ISO 8601 UTC with Z")
        notification_id = serializers.UUIDField(
            help_text="The SMS carrying the code: GET /notifications/{id}."
        )

        class Meta:
            ref_name = "OtpRequested"

    @extend_schema(
        request=InputSerializer,
        responses={202: OutputSerializer, **errors(400, 401, 403, 415, 429, 503), **ACTIVE},
        operation_id="otp_request",
        summary="Send a one-time code to a number",
    )
    def post(self, request: Request) -> HttpResponse:
        data = _valid(self.InputSerializer, request)
        requested = otp_request(
            client_id=self.client_id(request),
            mobile=mobile_parse(data["mobile_number"]),
            end_user_ip=data.get("end_user_ip", ""),
        )
        return answer(
            request,
            self.OutputSerializer.represent(requested),
            status=status.HTTP_202_ACCEPTED,
            headers=requested.rate_limit.headers,
        )


class OtpVerifyApi(ClientApi):
    parser_classes = [OrjsonParser]

    class InputSerializer(StrictSerializer):
        mobile_number = serializers.CharField(max_length=MAX_INPUT_LENGTH)
        otp = serializers.CharField(max_length=10, help_text="The code the person typed.")
        end_user_ip = serializers.CharField(
            max_length=IP_MAX_LENGTH, required=False, allow_blank=True, help_text=END_USER_IP_HELP
        )

        class Meta:
            ref_name = "OtpVerifyRequest"

    class OutputSerializer(FlatOutputSerializer):
        mobile_number = serializers.CharField(source="mobile.key")
        verified = serializers.BooleanField()

        class Meta:
            ref_name = "OtpVerified"

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401, 415, 429), **GONE},
        operation_id="otp_verify",
        summary="Check a one-time code",
    )
    def post(self, request: Request) -> HttpResponse:
        data = _valid(self.InputSerializer, request)
        verified = otp_verify(
            client_id=self.client_id(request),
            mobile=mobile_parse(data["mobile_number"]),
            otp=data["otp"],
            end_user_ip=data.get("end_user_ip", ""),
        )
        return answer(request, self.OutputSerializer.represent(verified), headers=verified.rate_limit.headers)


class OtpStatusApi(ClientApi):
    class OutputSerializer(FlatOutputSerializer):
        mobile_number = serializers.CharField(source="mobile.key")
        active = serializers.BooleanField()
        expires_in_seconds = serializers.IntegerField(help_text="0 when no code is active.")
        attempts_left = serializers.IntegerField()

        class Meta:
            ref_name = "OtpStatus"

    @extend_schema(
        responses={200: OutputSerializer, **errors(400, 401)},
        operation_id="otp_status",
        summary="Whether this client's code for a number is active, and for how long",
    )
    def get(self, request: Request, mobile_number: str) -> HttpResponse:
        found = otp_status(client_id=self.client_id(request), mobile=mobile_parse(mobile_number))
        return answer(request, self.OutputSerializer.represent(found))


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)

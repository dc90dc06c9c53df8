"""The four gateway endpoints: authenticate the gateway, parse its format, queue the SMS.

Each answers the way its gateway expects (JSON 202, TwiML, ``ACK/Jasmin``) and never
queues anything before the gateway is authenticated.
"""

from datetime import UTC, datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.authentication import bearer_token
from apps.core.exceptions import ApplicationError
from apps.core.registry import SMS_VALIDATE, work_wake
from apps.core.rendering import OrjsonParser, answer
from apps.core.schema import errors
from apps.core.serializers import FlatOutputSerializer, SharedFieldsSerializer, StrictSerializer

from . import signatures
from .services import (
    MAX_SMS_LENGTH,
    EnqueueResult,
    GatewayRecord,
    InboundSms,
    gateway_lookup_by_token,
    message_id_derive,
    sms_enqueue,
)
from .signatures import gateway_verified

SENDER_MAX = 32


def _enqueue(gateway: GatewayRecord, sms: InboundSms) -> EnqueueResult:
    result = sms_enqueue(gateway=gateway, sms=sms)
    if result.kick:
        work_wake(SMS_VALIDATE)  # onboarding's validation task: inbound does not import it
    return result


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


class QueuedSerializer(FlatOutputSerializer):
    uuid = serializers.UUIDField(help_text="The SMS's id; a repeated delivery gets the first delivery's.")
    status = serializers.CharField(help_text='Always "queued".')
    duplicate = serializers.BooleanField(help_text="True when this gateway message was received before.")

    class Meta:
        ref_name = "Queued"


def _queued(request: Request, result: EnqueueResult) -> HttpResponse:
    return answer(request, QueuedSerializer.represent(result), status=status.HTTP_202_ACCEPTED)


class SmsReceiveApi(APIView):
    """Native JSON gateway (``sender_number``, ``sms_message``, ``received_timestamp``), authenticated by a bearer gateway token."""

    parser_classes = [OrjsonParser]

    class InputSerializer(StrictSerializer):
        sender_number = serializers.CharField(max_length=SENDER_MAX)
        sms_message = serializers.CharField(max_length=MAX_SMS_LENGTH, trim_whitespace=False)
        received_timestamp = serializers.DateTimeField()
        message_id = serializers.CharField(max_length=128, required=False)

        class Meta:
            ref_name = "NativeSms"

    OutputSerializer = QueuedSerializer

    @extend_schema(
        request=InputSerializer,
        responses={202: OutputSerializer, **errors(400, 401, 403, 413, 415, 503)},
        auth=[{"gatewayToken": []}],  # type: ignore[list-item]  # security requirements, typed as str
        operation_id="sms_receive",
        summary="Receive an SMS from a native JSON gateway",
    )
    def post(self, request: Request) -> HttpResponse:
        gateway = gateway_lookup_by_token(token=bearer_token(request))
        if gateway is None:
            raise ApplicationError(
                "Send the gateway token as 'Authorization: Bearer <token>'.",
                code="not_authenticated",
                status_code=status.HTTP_401_UNAUTHORIZED,
            )
        data = self._validated(request.data)
        received = _aware(data["received_timestamp"])
        message_id = data.get("message_id") or message_id_derive(
            sender=data["sender_number"], body=data["sms_message"], timestamp=received.isoformat()
        )
        sms = InboundSms(data["sender_number"], data["sms_message"], received, message_id)
        return _queued(request, _enqueue(gateway, sms))

    def _validated(self, data: Any) -> dict[str, Any]:
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def get_authenticate_header(self, request: Request) -> str:
        return "Bearer"


class AndroidSmsReceiveApi(APIView):
    """SMS Gateway for Android webhook (event ``sms:received``), HMAC-signed."""

    parser_classes = [OrjsonParser]

    class PayloadSerializer(SharedFieldsSerializer):
        messageId = serializers.CharField(max_length=128, required=False, allow_null=True)
        message = serializers.CharField(max_length=MAX_SMS_LENGTH, trim_whitespace=False)
        sender = serializers.CharField(max_length=SENDER_MAX, required=False)
        # Deprecated by the app in favour of sender/recipient; older devices send only this.
        phoneNumber = serializers.CharField(max_length=SENDER_MAX, required=False)
        # The phone's own number, when it knows it (may be null on multi-SIM devices).
        recipient = serializers.CharField(max_length=SENDER_MAX, required=False, allow_null=True)
        receivedAt = serializers.DateTimeField()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if not (attrs.get("sender") or attrs.get("phoneNumber")):
                raise serializers.ValidationError({"sender": ["This field is required."]})
            return attrs

        class Meta:
            ref_name = "AndroidSmsPayload"

    class InputSerializer(SharedFieldsSerializer):
        event = serializers.CharField(max_length=64)
        id = serializers.CharField(max_length=128)
        payload = serializers.DictField()

        class Meta:
            ref_name = "AndroidWebhook"

    OutputSerializer = QueuedSerializer

    @extend_schema(
        request=InputSerializer,
        responses={202: OutputSerializer, **errors(400, 401, 403, 404, 413, 415, 503)},
        auth=[{"androidSignature": []}],  # type: ignore[list-item]  # security requirements, typed as str
        operation_id="sms_receive_android",
        summary="Receive an SMS from SMS Gateway for Android (webhook sms:received)",
    )
    def post(self, request: Request, gateway_id: str) -> HttpResponse:
        gateway = signatures.android_gateway(gateway_id, request._request)
        envelope = self.InputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        if envelope.validated_data["event"] != "sms:received":
            # Acknowledge other events so the phone stops retrying them.
            return answer(request, {"status": "ignored"}, status=status.HTTP_202_ACCEPTED)
        payload = self.PayloadSerializer(data=envelope.validated_data["payload"])
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        sms = InboundSms(
            data.get("sender") or data["phoneNumber"],
            data["message"],
            _aware(data["receivedAt"]),
            envelope.validated_data["id"],
            recipient=data.get("recipient"),
        )
        return _queued(request, _enqueue(gateway, sms))


class TwilioSmsReceiveApi(APIView):
    """Twilio inbound SMS webhook (form-encoded), checked with X-Twilio-Signature."""

    parser_classes = [FormParser]

    class InputSerializer(SharedFieldsSerializer):
        MessageSid = serializers.CharField(max_length=64)
        From = serializers.CharField(max_length=SENDER_MAX)
        To = serializers.CharField(max_length=SENDER_MAX, required=False)
        Body = serializers.CharField(max_length=MAX_SMS_LENGTH, trim_whitespace=False, allow_blank=True)

        class Meta:
            ref_name = "TwilioSms"

    @extend_schema(
        request={"application/x-www-form-urlencoded": InputSerializer},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="TwiML <Response/>"),
            **errors(400, 401, 403, 404, 413, 415, 503),
        },
        auth=[{"twilioSignature": []}],  # type: ignore[list-item]  # security requirements, typed as str
        operation_id="sms_receive_twilio",
        summary="Receive an SMS from Twilio",
    )
    def post(self, request: Request, gateway_id: str) -> HttpResponse:
        gateway = signatures.twilio_gateway(gateway_id, request._request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sms = InboundSms(
            data["From"], data["Body"], timezone.now(), data["MessageSid"], recipient=data.get("To")
        )
        _enqueue(gateway, sms)
        return HttpResponse(
            '<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml; charset=utf-8"
        )


class JasminSmsReceiveApi(APIView):
    """Jasmin MO HTTP callback (form-encoded), authenticated by ``?token=``; answers ACK/Jasmin."""

    parser_classes = [FormParser]

    class InputSerializer(SharedFieldsSerializer):
        id = serializers.CharField(max_length=128)
        to = serializers.CharField(max_length=SENDER_MAX, required=False)
        content = serializers.CharField(max_length=MAX_SMS_LENGTH, trim_whitespace=False, allow_blank=True)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            # "from" is a Python keyword, so it cannot be a declared field name.
            raw = self.initial_data.get("from")
            sender = raw.strip() if isinstance(raw, str) else ""
            if not sender or len(sender) > SENDER_MAX:
                raise serializers.ValidationError({"from": ["A sender number is required."]})
            return {**attrs, "from": sender}

        class Meta:
            ref_name = "JasminSms"

    @extend_schema(
        request={"application/x-www-form-urlencoded": InputSerializer},
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="ACK/Jasmin"),
            **errors(400, 403, 404, 413, 415, 503),
        },
        auth=[{"jasminToken": []}],  # type: ignore[list-item]  # security requirements, typed as str
        operation_id="sms_receive_jasmin",
        summary="Receive an SMS from Jasmin (MO HTTP callback)",
    )
    def post(self, request: Request, gateway_id: str) -> HttpResponse:
        token = request.query_params.get("token", "")
        gateway = gateway_verified(
            gateway_id, "jasmin", lambda g: signatures.token_verify(gateway=g, token=token)
        )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sms = InboundSms(data["from"], data["content"], timezone.now(), data["id"], recipient=data.get("to"))
        _enqueue(gateway, sms)
        return HttpResponse("ACK/Jasmin", content_type="text/plain")

"""Delivery receipts from the sending gateways, each in its provider's own format.

Each endpoint authenticates the receipt before reading it (the same schemes as the
receive endpoints; Jasmin's per-message signature instead of its hashed token), answers
the way its provider expects, and acknowledges a receipt it cannot place so the provider
stops retrying it. The one receipt refused (503) is one that beats the sender recording
its message: Android and Jasmin send it again, and by then it applies.
"""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.exceptions import ApplicationError
from apps.core.rendering import OrjsonParser, answer
from apps.core.schema import errors
from apps.core.serializers import FlatOutputSerializer, SharedFieldsSerializer
from apps.inbound import signatures
from apps.inbound.models import Gateway
from apps.inbound.signatures import gateway_or_404  # the receive endpoints' own checks

from .receipt_urls import jasmin_dlr_signature_ok
from .services.receipts import ReceiptOutcome, android_status, jasmin_status, receipt_apply, twilio_status

EARLY_RETRY_AFTER = 10  # seconds; the receipt's message is being recorded as it arrives
ERROR_MAX = 200
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _refuse_if_early(outcome: ReceiptOutcome) -> None:
    if outcome.early:
        raise ApplicationError(
            "The message of this receipt is still being recorded; send it again shortly.",
            code="receipt_early",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            retry_after=EARLY_RETRY_AFTER,
        )


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReceiptAnswerSerializer(FlatOutputSerializer):
    # A CharField, not a choice: another "status" enum in the schema would need a name override.
    status = serializers.CharField(help_text='"ok": about a notification of this gateway; "ignored": not.')

    class Meta:
        ref_name = "ReceiptAnswer"


class AndroidReceiptApi(APIView):
    """SMS Gateway for Android webhooks sms:sent, sms:delivered and sms:failed, HMAC-signed."""

    parser_classes = [OrjsonParser]

    class InputSerializer(SharedFieldsSerializer):
        event = serializers.CharField(max_length=64)
        id = serializers.CharField(max_length=128)
        payload = serializers.DictField()

        class Meta:
            ref_name = "AndroidReceipt"

    class PayloadSerializer(SharedFieldsSerializer):
        # The id the message was sent with: the notification id (providers/android.py).
        messageId = serializers.CharField(max_length=128)
        reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, allow_null=True)

        class Meta:
            ref_name = "AndroidReceiptPayload"

    OutputSerializer = ReceiptAnswerSerializer

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401, 404, 413, 415, 503)},
        auth=[{"androidSignature": []}],  # type: ignore[list-item]  # security requirements, typed as str
        operation_id="notification_receipt_android",
        summary="Delivery report from SMS Gateway for Android (webhooks sms:sent/delivered/failed)",
    )
    def post(self, request: Request, gateway_id: str) -> HttpResponse:
        gateway = signatures.android_gateway(gateway_id, request._request)
        envelope = _validated(self.InputSerializer, request.data)
        new_status = android_status(envelope["event"])
        if new_status is None:
            return self._answer(known=False)  # another event: acknowledged, so the phone stops
        payload = _validated(self.PayloadSerializer, envelope["payload"])
        message_id = payload["messageId"]
        outcome = receipt_apply(
            gateway_id=gateway.id,
            provider_id=message_id,
            notification_id=message_id,
            status=new_status,
            error=(payload.get("reason") or "")[:ERROR_MAX],
        )
        _refuse_if_early(outcome)
        return self._answer(known=outcome.notification_id is not None)

    def _answer(self, *, known: bool) -> HttpResponse:
        return answer(self.request, self.OutputSerializer.represent({"status": "ok" if known else "ignored"}))


class TwilioReceiptApi(APIView):
    """Twilio message status callback (form-encoded), checked with X-Twilio-Signature."""

    parser_classes = [FormParser]

    class InputSerializer(SharedFieldsSerializer):
        MessageSid = serializers.CharField(max_length=64)
        MessageStatus = serializers.CharField(max_length=32)
        ErrorCode = serializers.CharField(max_length=16, required=False, allow_blank=True)

        class Meta:
            ref_name = "TwilioReceipt"

    @extend_schema(
        request={"application/x-www-form-urlencoded": InputSerializer},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="TwiML <Response/>"),
            **errors(400, 401, 404, 413, 415, 503),
        },
        auth=[{"twilioSignature": []}],  # type: ignore[list-item]  # security requirements, typed as str
        operation_id="notification_receipt_twilio",
        summary="Message status callback from Twilio",
    )
    def post(self, request: Request, gateway_id: str) -> HttpResponse:
        gateway = signatures.twilio_gateway(gateway_id, request._request)
        data = _validated(self.InputSerializer, request.data)
        new_status = twilio_status(data["MessageStatus"])
        if new_status is not None:
            code = data.get("ErrorCode", "")
            receipt_apply(
                gateway_id=gateway.id,
                provider_id=data["MessageSid"],
                status=new_status,
                error=f"twilio error {code}" if code else "",
            )
        return HttpResponse(TWIML_EMPTY, content_type="text/xml; charset=utf-8")


class JasminReceiptApi(APIView):
    """Jasmin delivery receipt (dlr-method POST), authenticated by the signed dlr-url."""

    parser_classes = [FormParser]

    class InputSerializer(SharedFieldsSerializer):
        id = serializers.CharField(max_length=128, help_text="Jasmin's message id, as /send answered it.")
        message_status = serializers.CharField(max_length=32)
        level = serializers.ChoiceField(choices=["1", "2", "3"])
        err = serializers.CharField(max_length=32, required=False, allow_blank=True)

        class Meta:
            ref_name = "JasminReceipt"

    @extend_schema(
        request={"application/x-www-form-urlencoded": InputSerializer},
        parameters=[
            OpenApiParameter(
                "n", str, OpenApiParameter.QUERY, required=True, description="The notification id."
            ),
            OpenApiParameter(
                "sig", str, OpenApiParameter.QUERY, required=True, description="The dlr-url's signature."
            ),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="ACK/Jasmin"),
            **errors(400, 403, 404, 413, 415, 503),
        },
        auth=[],
        operation_id="notification_receipt_jasmin",
        summary="Delivery receipt (DLR) from Jasmin",
    )
    def post(self, request: Request, gateway_id: str) -> HttpResponse:
        gateway = gateway_or_404(gateway_id, Gateway.Kind.JASMIN)
        notification_id = request.query_params.get("n", "")
        if not jasmin_dlr_signature_ok(gateway.id, notification_id, request.query_params.get("sig", "")):
            raise ApplicationError(
                "Missing or wrong receipt signature.", code="invalid_signature", status_code=403
            )
        data = _validated(self.InputSerializer, request.data)
        new_status = jasmin_status(level=data["level"], message_status=data["message_status"])
        if new_status is not None:
            error = f"jasmin {data['message_status']}" + (f" (err {data['err']})" if data.get("err") else "")
            outcome = receipt_apply(
                gateway_id=gateway.id,
                provider_id=data["id"],
                notification_id=notification_id,
                status=new_status,
                error=error,
            )
            _refuse_if_early(outcome)
        # Exactly this body, or Jasmin sends the receipt again.
        return HttpResponse("ACK/Jasmin", content_type="text/plain")

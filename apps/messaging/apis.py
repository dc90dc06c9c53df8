"""Client endpoints of outbound messages: queue a notification, read how it went."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request

from apps.clients.authentication import ClientApi
from apps.core.rendering import OrjsonParser, answer
from apps.core.schema import errors
from apps.core.serializers import FlatOutputSerializer, StrictSerializer

from .selectors import notification_get
from .services.enqueue import EMAIL_BODY_MAX, IDEMPOTENCY_KEY_MAX, SUBJECT_MAX, notification_enqueue

STATUSES = ["queued", "sending", "sent", "delivered", "failed"]


class NotificationCreateApi(ClientApi):
    parser_classes = [OrjsonParser]

    class InputSerializer(StrictSerializer):
        channel = serializers.ChoiceField(choices=["sms", "email"])
        to = serializers.CharField(max_length=254, help_text="A mobile number (sms) or an email address.")
        # The per-channel bounds (1,600 characters for SMS, 64 KiB for email) are the service's.
        body = serializers.CharField(max_length=EMAIL_BODY_MAX, trim_whitespace=False)
        subject = serializers.CharField(max_length=SUBJECT_MAX, required=False, allow_blank=True)
        idempotency_key = serializers.CharField(
            max_length=IDEMPOTENCY_KEY_MAX,
            required=False,
            help_text="The same key from this client within 24 h returns the first notification.",
        )

        class Meta:
            ref_name = "NotificationRequest"

    class OutputSerializer(FlatOutputSerializer):
        id = serializers.UUIDField()
        status = serializers.ChoiceField(choices=STATUSES, help_text='"queued", or where a repeat stands.')

        class Meta:
            ref_name = "NotificationQueued"

    @extend_schema(
        request=InputSerializer,
        responses={202: OutputSerializer, **errors(400, 401, 403, 413, 415, 429, 503)},
        operation_id="notification_create",
        summary="Queue an SMS or email notification",
    )
    def post(self, request: Request) -> HttpResponse:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        queued = notification_enqueue(
            client_id=self.client_id(request),
            channel=data["channel"],
            to=data["to"],
            body=data["body"],
            subject=data.get("subject", ""),
            idempotency_key=data.get("idempotency_key", ""),
        )
        return answer(
            request,
            self.OutputSerializer.represent(queued),
            status=status.HTTP_202_ACCEPTED,
            headers=queued.rate_limit.headers if not queued.duplicate else None,
        )


class NotificationDetailApi(ClientApi):
    class OutputSerializer(FlatOutputSerializer):
        id = serializers.UUIDField()
        channel = serializers.ChoiceField(choices=["sms", "email"])
        status = serializers.ChoiceField(choices=STATUSES)
        attempts = serializers.IntegerField()
        last_error = serializers.CharField(allow_blank=True)
        gateway_id = serializers.UUIDField(allow_null=True)

        class Meta:
            ref_name = "Notification"

    @extend_schema(
        responses={200: OutputSerializer, **errors(401, 404)},
        operation_id="notification_get",
        summary="Where a notification of this client stands",
    )
    def get(self, request: Request, notification_id: str) -> HttpResponse:
        found = notification_get(client_id=self.client_id(request), notification_id=notification_id)
        return answer(request, self.OutputSerializer.represent(found))

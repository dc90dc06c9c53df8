from django.urls import path

from . import apis

urlpatterns = [
    path("sms/receive", apis.SmsReceiveApi.as_view(), name="sms-receive"),
    path(
        "sms/receive/android/<str:gateway_id>",
        apis.AndroidSmsReceiveApi.as_view(),
        name="sms-receive-android",
    ),
    path(
        "sms/receive/twilio/<str:gateway_id>", apis.TwilioSmsReceiveApi.as_view(), name="sms-receive-twilio"
    ),
    path(
        "sms/receive/jasmin/<str:gateway_id>", apis.JasminSmsReceiveApi.as_view(), name="sms-receive-jasmin"
    ),
]

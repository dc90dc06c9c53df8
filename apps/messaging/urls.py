from django.urls import path

from . import apis, receipt_apis

urlpatterns = [
    path("notifications", apis.NotificationCreateApi.as_view(), name="notification-create"),
    path(
        "notifications/<str:notification_id>",
        apis.NotificationDetailApi.as_view(),
        name="notification-detail",
    ),
    path(
        "notifications/receipts/android/<str:gateway_id>",
        receipt_apis.AndroidReceiptApi.as_view(),
        name="notification-receipt-android",
    ),
    path(
        "notifications/receipts/twilio/<str:gateway_id>",
        receipt_apis.TwilioReceiptApi.as_view(),
        name="notification-receipt-twilio",
    ),
    path(
        "notifications/receipts/jasmin/<str:gateway_id>",
        receipt_apis.JasminReceiptApi.as_view(),
        name="notification-receipt-jasmin",
    ),
]

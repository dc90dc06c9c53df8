from django.urls import path

from . import apis

urlpatterns = [
    path("onboard/register/<str:mobile_number>", apis.NumberRegisterApi.as_view(), name="onboard-register"),
    path("onboard/status/<str:mobile_number>", apis.NumberStatusApi.as_view(), name="onboard-status"),
    path("onboard/qr/<str:mobile_number>", apis.NumberQrApi.as_view(), name="onboard-qr"),
]

from django.urls import path

from . import apis

urlpatterns = [
    path("otp/request", apis.OtpRequestApi.as_view(), name="otp-request"),
    path("otp/verify", apis.OtpVerifyApi.as_view(), name="otp-verify"),
    path("otp/status/<str:mobile_number>", apis.OtpStatusApi.as_view(), name="otp-status"),
]

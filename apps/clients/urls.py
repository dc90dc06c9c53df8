from django.urls import path

from . import apis

urlpatterns = [
    path("events", apis.EventListApi.as_view(), name="event-list"),
    path("events/stream", apis.EventStreamApi.as_view(), name="event-stream"),
]

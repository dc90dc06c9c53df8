"""Views answer API clients with a plain HttpResponse of orjson's bytes
(``apps.core.rendering.answer``) instead of DRF's Response: the same status, body and
headers as DRF's rendering, for every Accept a client sends; browsers and indented
renderings still get DRF's Response and its renderers."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apps.core.rendering import answer

DATA = [
    {"status": "ok"},
    {"uuid": uuid.UUID(int=5), "when": datetime(2026, 12, 1, 10, 0, tzinfo=UTC), "amount": Decimal("1.50")},
    {"name": "Zoë", "emoji": "📱", "nested": {"list": [1, 2.5, None, True]}},
    [],
]
ACCEPTS = [None, "*/*", "application/json", "application/json; indent=4", "text/html", "application/*"]


class Answered(APIView):
    data: object = None

    def get(self, request: Request) -> object:
        return answer(request, self.data, status=202, headers={"X-Rate": "7"})


class Reference(APIView):
    data: object = None

    def get(self, request: Request) -> Response:
        return Response(self.data, status=202, headers={"X-Rate": "7"})


def _get(view: type[APIView], data: object, accept: str | None, path: str = "/x") -> tuple[int, bytes, dict]:
    response = view.as_view(data=data)(_request(path, accept))
    response.render() if hasattr(response, "render") else None
    headers = {name.lower(): value for name, value in response.items()}
    return response.status_code, response.content, headers


def _request(path: str, accept: str | None) -> HttpRequest:
    request = APIRequestFactory().get(path)
    if accept:
        request.META["HTTP_ACCEPT"] = accept
    return request


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_answer_is_what_drf_renders(data, accept):
    answered, reference = _get(Answered, data, accept), _get(Reference, data, accept)

    if answered[2]["content-type"].startswith("text/html"):  # the page names the view
        answered, reference = _browsable(answered), _browsable(reference)
    assert answered == reference
    assert answered[0] == 202 and answered[2]["x-rate"] == "7"


def _browsable(got: tuple[int, bytes, dict]) -> tuple[int, bytes, dict]:
    status, body, headers = got
    assert b"<html" in body.lower()
    return status, b"html", {name: value for name, value in headers.items() if name != "content-length"}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_api_clients_get_a_plain_response_made_at_once(accept):
    response = Answered.as_view(data={"a": 1})(_request("/x", accept))

    assert not isinstance(response, Response)
    assert response.content == b'{"a":1}'
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/x?format=api", "/x?format=json"])
def test_a_format_in_the_query_is_still_followed(path):
    answered, reference = _get(Answered, {"a": 1}, None, path), _get(Reference, {"a": 1}, None, path)

    if path.endswith("api"):
        answered, reference = _browsable(answered), _browsable(reference)
    assert answered == reference


def test_a_browser_gets_the_browsable_api():
    _status, body, headers = _get(Answered, {"a": 1}, "text/html")

    assert headers["content-type"].startswith("text/html")
    assert b"<html" in body.lower()

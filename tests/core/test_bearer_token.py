"""One reader of ``Authorization: Bearer``, so API keys, gateway tokens and the metrics
token accept and refuse the same headers."""

import pytest
from django.test import RequestFactory

from apps.core.authentication import bearer_token


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer sbk_abc", "sbk_abc"),
        ("bearer sbk_abc", "sbk_abc"),
        ("BEARER  sbk_abc ", "sbk_abc"),
        ("Bearer", ""),
        ("Bearer   ", ""),
        ("Basic dXNlcjpwdw==", ""),
        ("sbk_abc", ""),
        ("", ""),
    ],
)
def test_it_reads_the_token_of_a_bearer_header_only(header, token):
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=header)

    assert bearer_token(request) == token


def test_no_header_is_no_token():
    assert bearer_token(RequestFactory().get("/")) == ""


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_three_bearer_endpoints_take_the_scheme_in_any_case(
    api, settings, client_creds, make_gateway, scheme
):
    from tests.helpers import now_iso

    settings.METRICS_TOKEN = "scrape-secret"
    gateway = make_gateway("native")
    sms = {"sender_number": "9876543210", "sms_message": "hi", "received_timestamp": now_iso()}

    status = api.get("/onboard/status/9876543210", HTTP_AUTHORIZATION=f"{scheme} {client_creds.api_key}")
    receive = api.post("/sms/receive", sms, format="json", HTTP_AUTHORIZATION=f"{scheme} {gateway.secret}")
    metrics = api.get("/metrics", HTTP_AUTHORIZATION=f"{scheme} scrape-secret")

    assert (status.status_code, receive.status_code, metrics.status_code) == (404, 202, 200)


@pytest.mark.django_db
def test_the_three_bearer_endpoints_refuse_a_token_without_its_scheme(
    api, settings, client_creds, make_gateway
):
    from tests.helpers import now_iso

    settings.METRICS_TOKEN = "scrape-secret"
    gateway = make_gateway("native")
    sms = {"sender_number": "9876543210", "sms_message": "hi", "received_timestamp": now_iso()}

    status = api.get("/onboard/status/9876543210", HTTP_AUTHORIZATION=client_creds.api_key)
    receive = api.post("/sms/receive", sms, format="json", HTTP_AUTHORIZATION=gateway.secret)
    metrics = api.get("/metrics", HTTP_AUTHORIZATION="scrape-secret")

    assert (status.status_code, receive.status_code, metrics.status_code) == (401, 401, 401)

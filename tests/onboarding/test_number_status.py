import time

import pytest

from apps.abuse.services import blacklist_add
from apps.core import keys
from apps.core.phone import mobile_parse
from apps.core.redis import get_redis

pytestmark = pytest.mark.django_db

NUMBER = "9876543210"


def status_of(api, creds, number=NUMBER):
    return api.get(f"/onboard/status/{number}", **creds.auth)


def test_a_registered_number_is_pending(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)

    response = status_of(api, client_creds, "+919876543210")

    assert response.status_code == 200
    assert response.json() == {"mobile_number": NUMBER, "status": "pending"}


def test_a_verified_number_is_verified(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)
    get_redis().sadd(keys.out_sms_numbers(), NUMBER)

    assert status_of(api, client_creds).json()["status"] == "verified"


def test_a_blacklisted_number_is_blacklisted(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)
    blacklist_add(mobile=mobile_parse(NUMBER), source="test")

    assert status_of(api, client_creds).json()["status"] == "blacklisted"


def test_a_registration_past_its_window_is_expired(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)
    r = get_redis()
    r.delete(keys.onboard_hash(NUMBER))
    r.hset(keys.onboard_clients(NUMBER), client_creds.id, int(time.time() * 1000) - 1)

    assert status_of(api, client_creds).json()["status"] == "expired"


def test_a_lost_hash_within_the_window_is_unknown(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)
    get_redis().delete(keys.onboard_hash(NUMBER))

    assert status_of(api, client_creds).json()["status"] == "unknown"


def test_a_client_cannot_read_numbers_it_never_registered(api, make_client):
    owner, other = make_client("Owner"), make_client("Other")
    api.get(f"/onboard/register/{NUMBER}", **owner.auth)

    response = status_of(api, other)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get(f"/onboard/qr/{NUMBER}", **other.auth).status_code == 404


def test_status_rejects_invalid_numbers_and_missing_keys(api, client_creds):
    assert status_of(api, client_creds, "abc").status_code == 400
    assert api.get(f"/onboard/status/{NUMBER}").status_code == 401


def test_status_runs_no_sql(api, client_creds, warm_hot_path, django_assert_num_queries):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)
    warm_hot_path()

    with django_assert_num_queries(0):
        assert status_of(api, client_creds).status_code == 200


def test_qr_code_is_an_svg_by_default_and_png_on_request(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)

    svg = api.get(f"/onboard/qr/{NUMBER}", **client_creds.auth)
    png = api.get(f"/onboard/qr/{NUMBER}?format=png", **client_creds.auth)

    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


def test_qr_code_encodes_the_sms_link(api, client_creds):
    import segno

    link = api.get(f"/onboard/register/{NUMBER}", **client_creds.auth).json()["sms_link"]
    expected = segno.make(link, error="m")

    svg = api.get(f"/onboard/qr/{NUMBER}", **client_creds.auth)

    import io

    buffer = io.BytesIO()
    expected.save(buffer, kind="svg", scale=6, border=2)
    assert svg.content == buffer.getvalue()


def test_qr_code_rejects_unknown_formats(api, client_creds):
    api.get(f"/onboard/register/{NUMBER}", **client_creds.auth)

    response = api.get(f"/onboard/qr/{NUMBER}?format=gif", **client_creds.auth)

    assert response.status_code == 400

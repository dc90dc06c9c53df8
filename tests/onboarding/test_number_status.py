import json
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


def register(api, creds, number=NUMBER):
    return api.get(f"/onboard/register/{number}", **creds.auth).json()


def test_a_registered_number_is_pending(api, client_creds):
    registration = register(api, client_creds)

    response = status_of(api, client_creds, "+919876543210")

    assert response.status_code == 200
    assert response.json() == {
        "mobile_number": NUMBER,
        "registration_id": registration["registration_id"],
        "status": "pending",
    }


def test_status_answers_for_the_newest_registration_or_the_one_named(api, client_creds):
    first = register(api, client_creds)
    second = register(api, client_creds)

    newest = status_of(api, client_creds).json()
    named = api.get(
        f"/onboard/status/{NUMBER}", {"registration_id": first["registration_id"]}, **client_creds.auth
    ).json()

    assert newest["registration_id"] == second["registration_id"]
    assert named["registration_id"] == first["registration_id"]


def test_a_client_cannot_read_another_clients_registration_by_its_id(api, make_client):
    owner, other = make_client("Owner"), make_client("Other")
    theirs = register(api, owner)
    register(api, other)

    response = api.get(
        f"/onboard/status/{NUMBER}", {"registration_id": theirs["registration_id"]}, **other.auth
    )

    assert response.status_code == 404


def test_a_malformed_registration_id_is_refused(api, client_creds):
    register(api, client_creds)

    response = api.get(f"/onboard/status/{NUMBER}", {"registration_id": "not-a-uuid"}, **client_creds.auth)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_number_verified_by_another_registration_reads_expired(api, client_creds):
    register(api, client_creds)
    get_redis().sadd(keys.out_sms_numbers(), NUMBER)  # proved by a registration that is not this one

    assert status_of(api, client_creds).json()["status"] == "expired"


def test_a_blacklisted_number_is_blacklisted(api, client_creds):
    register(api, client_creds)
    blacklist_add(mobile=mobile_parse(NUMBER), source="test")

    assert status_of(api, client_creds).json()["status"] == "blacklisted"


def test_a_registration_past_its_expiry_is_expired(api, client_creds):
    registration = register(api, client_creds)
    r = get_redis()
    entry = json.loads(str(r.hget(keys.onboard_regs(NUMBER), registration["hash"])))
    entry["expires_at"] = int(time.time() * 1000) - 1
    r.hset(keys.onboard_regs(NUMBER), registration["hash"], json.dumps(entry))

    assert status_of(api, client_creds).json()["status"] == "expired"
    assert api.get(f"/onboard/qr/{NUMBER}", **client_creds.auth).json()["code"] == "no_pending_registration"


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

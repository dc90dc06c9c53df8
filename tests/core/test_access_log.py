"""The web process's access log, from a real gunicorn started the way deploy/ starts it:
no query strings (Jasmin sends its token as ?token=) and no raw mobile numbers."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.helpers import jasmin_params
from tests.polling import wait_for
from tests.processes import gunicorn_server

pytestmark = pytest.mark.slow  # a real gunicorn

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "9876543210"


@pytest.fixture
def gunicorn(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "gunicorn.log"
    with gunicorn_server(database_url, log, threads=1) as base:
        yield base, log


def test_the_access_log_carries_neither_the_jasmin_token_nor_the_number(gunicorn, make_gateway):
    base, log = gunicorn
    gateway = make_gateway("jasmin")
    token = gateway.secret
    assert len(token) >= 16  # long enough that finding it in the log is no accident

    jasmin = requests.post(
        f"{base}/sms/receive/jasmin/{gateway.id}?token={quote(token)}&from=91{NUMBER}",
        data=jasmin_params("91" + NUMBER, "ONBOARD:" + "0" * 64),
        timeout=10,
    )
    register = requests.get(
        f"{base}/onboard/register/{quote('+91 98765 43210')}?reference=r-{NUMBER}", timeout=10
    )
    plain = requests.get(f"{base}/onboard/status/{NUMBER}", timeout=10)

    assert jasmin.status_code == 200 and jasmin.text == "ACK/Jasmin"
    assert register.status_code == plain.status_code == 401  # no API key: still logged
    wait_for(
        lambda: log.read_text().count('"GET /onboard/status/') == 1,
        timeout=10,
        message="the access log lines",
    )
    text = log.read_text()
    assert f'"POST /sms/receive/jasmin/{gateway.id} HTTP/1.1" 200' in text
    assert token not in text and "token=" not in text
    assert NUMBER not in text and "98765" not in text and "43210" not in text
    assert "/onboard/register/+** ***** *3210" in text
    assert "/onboard/status/******3210" in text

"""Request bodies in JSON are parsed by orjson (``apps.core.rendering.OrjsonParser``): the
same data as DRF's own JSONParser for what it accepts, a 400 in the error shape for what
it refuses, and no 500 for the bodies that made the stdlib decoder raise something else."""

import io
import json

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core import keys
from apps.core.redis import get_redis
from apps.core.rendering import OrjsonParser

BODIES = [
    b"{}",
    b"[]",
    b'{"a": 1, "b": [1.5, -2, 1e300, true, false, null], "c": {"d": "\\u00e9\\n\\t\\"x"}}',
    '{"name": "Zoë", "emoji": "📱", "script": "मोबाइल"}'.encode(),
    b'  {"spaced" : "out"}  \n',
    b'{"dup": 1, "dup": 2}',
    b'"just a string"',
    b"12345",
    b'{"big": 9223372036854775807, "negative": -9223372036854775808}',
]

REFUSED = [
    b"",
    b"{not json",
    b'{"a": 1',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark: the stdlib decoder refuses it as well
    b'{"a": "\xff\xfe"}',  # not UTF-8
    b"{'single': 'quotes'}",
    b'{"trailing": 1,}',
]


def _parse(parser, body: bytes, encoding: str = "utf-8"):
    return parser.parse(io.BytesIO(body), "application/json", {"encoding": encoding})


@pytest.mark.parametrize("body", BODIES)
def test_it_reads_what_drfs_parser_reads_as_drf_reads_it(body):
    assert _parse(OrjsonParser(), body) == _parse(JSONParser(), body)


@pytest.mark.parametrize("body", REFUSED)
def test_it_refuses_what_drfs_parser_refuses_with_a_parse_error(body):
    with pytest.raises(ParseError):
        _parse(JSONParser(), body)
    with pytest.raises(ParseError) as refused:
        _parse(OrjsonParser(), body)
    assert str(refused.value.detail).startswith("JSON parse error - ")


def test_a_body_in_another_declared_charset_is_read_by_drfs_parser():
    body = json.dumps({"name": "Zoë"}).encode("utf-16")

    assert _parse(OrjsonParser(), body, encoding="utf-16") == {"name": "Zoë"}
    assert _parse(OrjsonParser(), b'{"a": 1}', encoding="UTF8") == {"a": 1}


def test_nesting_too_deep_is_a_parse_error_not_a_recursion_error():
    deep = b"[" * 5000 + b"]" * 5000
    with pytest.raises(RecursionError):  # what DRF's parser let out: a 500
        _parse(JSONParser(), deep)
    with pytest.raises(ParseError):
        _parse(OrjsonParser(), deep)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"sender_number": NaN}', b"[" * 5000 + b"]" * 5000, b'{"n": 1' + b"0" * 40 + b"}"],
)
def test_the_receive_endpoint_answers_hostile_json_with_a_400_and_queues_nothing(api, make_gateway, body):
    gateway = make_gateway("native")

    response = api.post(
        "/sms/receive", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {gateway.secret}"
    )

    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "invalid"}
    assert isinstance(response.json()["detail"], str)
    assert get_redis().llen(keys.sms_inbound_queue()) == 0

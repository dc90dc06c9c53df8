import pytest

from apps.core.exceptions import ApplicationError
from apps.core.phone import mobile_parse


@pytest.mark.parametrize(
    "raw",
    ["9876543210", "+919876543210", "09876543210", "+91 98765-43210", "919876543210", " 98765 43210 "],
)
def test_home_numbers_are_keyed_by_their_national_number(raw):
    mobile = mobile_parse(raw)

    assert mobile.key == "9876543210"
    assert mobile.country_code == 91
    assert mobile.e164 == "+919876543210"


def test_foreign_numbers_are_keyed_by_e164():
    mobile = mobile_parse("+1 415 555 2671")

    assert mobile.key == "+14155552671"
    assert mobile.country_code == 1


@pytest.mark.parametrize("raw", ["", "abc", "12345", "+91 22 1234 5678", "9" * 40, "+999123456789"])
def test_invalid_or_non_mobile_numbers_are_refused(raw):
    with pytest.raises(ApplicationError) as caught:
        mobile_parse(raw)

    assert caught.value.code == "invalid_mobile_number"


def test_the_home_region_comes_from_settings(settings):
    settings.DEFAULT_REGION = "GB"

    mobile = mobile_parse("07911 123456")

    assert mobile.key == "7911123456"
    assert mobile_parse("+919876543210").key == "+919876543210"

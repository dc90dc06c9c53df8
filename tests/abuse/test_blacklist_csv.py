"""Reading a blacklist import file is a service: the admin form only shows its errors."""

import pytest

from apps.abuse.services import blacklist_csv_read
from apps.core.exceptions import ApplicationError


def test_it_reads_each_row_by_its_header():
    rows = blacklist_csv_read(data=b"mobile_number,reason\n9876543210,spam\n+14155550123,\n")

    assert rows == [
        {"mobile_number": "9876543210", "reason": "spam"},
        {"mobile_number": "+14155550123", "reason": ""},
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_column():
    assert blacklist_csv_read(data="\ufeffmobile_number\n9876543210\n".encode()) == [
        {"mobile_number": "9876543210"}
    ]


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\xff\xfemobile_number\n", "The file is not UTF-8 text."),
        (b"phone,reason\n9876543210,x\n", "The file needs a header row with a mobile_number column."),
        (b"", "The file needs a header row with a mobile_number column."),
    ],
)
def test_it_refuses_a_file_it_cannot_read(data, detail):
    with pytest.raises(ApplicationError) as caught:
        blacklist_csv_read(data=data)

    assert (caught.value.detail, caught.value.code) == (detail, "invalid")

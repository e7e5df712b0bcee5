from decimal import Decimal

import pytest

from cuijiao.money import format_yuan, parse_amount, to_decimal


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("1,234.50", 123450),
        ("¥88", 8800),
        ("￥88.00", 8800),
        ("88元", 8800),
        ("８８．５", 8850),  # full-width digits and point
        ("-12.30", -1230),
        ("(12.30)", -1230),
        ("0.01", 1),
        (" 7 ", 700),
        (88, 8800),
        (1234.5, 123450),
        (0.1 + 0.2, 30),  # an Excel float artefact is a whole fen
        (Decimal("9.99"), 999),
    ],
)
def test_parse_amount_accepts_what_clerks_write(cell: object, fen: int) -> None:
    assert parse_amount(cell) == fen


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("五十元", "金额“五十元”无法识别，应为数字，如 1,234.50"),
        ("", "金额为空"),
        (None, "金额为空"),
        ("12.345", "金额“12.345”超过两位小数"),
        (12.345, "金额“12.345”超过两位小数"),
        ("1,23.00", "金额“1,23.00”无法识别，应为数字，如 1,234.50"),
        (True, "金额“True”无法识别"),
    ],
)
def test_parse_amount_rejects_with_a_message(cell: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        parse_amount(cell)


def test_format_and_decimal() -> None:
    assert format_yuan(123450) == "1234.50"
    assert format_yuan(123450, grouping=True) == "1,234.50"
    assert format_yuan(-5) == "-0.05"
    assert to_decimal(123405) == Decimal("1234.05")

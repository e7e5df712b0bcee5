from decimal import Decimal

import pytest

from cuijiao.money import amount_in_capitals, format_yuan, parse_amount, to_decimal


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


# The figures (PBOC rules): cn2an 0.5 writes 壹仟陆佰捌拾元叁角贰分 and
# 壹拾万柒仟元伍角叁分, dropping the 零 after a zero 元 digit, so ours is used.
CAPITALS = [
    (140950, "壹仟肆佰零玖元伍角"),
    (600714, "陆仟零柒元壹角肆分"),
    (168032, "壹仟陆佰捌拾元零叁角贰分"),
    (10700053, "壹拾万柒仟元零伍角叁分"),
    (32504, "叁佰贰拾伍元零肆分"),
    (895000, "捌仟玖佰伍拾元整"),
    (50, "伍角"),
    (10000000, "壹拾万元整"),
    (123450, "壹仟贰佰叁拾肆元伍角"),
    (100050000, "壹佰万零伍佰元整"),
    (10000100000, "壹亿零壹仟元整"),
    (5, "伍分"),
    (0, "零元整"),
    (1000, "壹拾元整"),
    (168002, "壹仟陆佰捌拾元零贰分"),
]


@pytest.mark.parametrize(("fen", "capitals"), CAPITALS)
def test_amount_in_capitals_follows_the_pboc_rules(fen: int, capitals: str) -> None:
    assert amount_in_capitals(fen) == capitals


def test_amount_in_capitals_refuses_a_negative_amount() -> None:
    with pytest.raises(ValueError, match="负数"):
        amount_in_capitals(-1)

"""Money as integer fen (分). One parser, one formatter; never a float.

Every amount that enters cuijiao goes through :func:`parse_amount`, which
returns an ``int`` number of fen or raises :class:`ValueError` with a message
a clerk can read.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

Fen = int

_CURRENCY_MARKS = ("¥", "￥", "RMB", "CNY", "元", "人民币")
_PLAIN_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")
_GROUPED_AMOUNT = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d{1,2})?$")
# An Excel number cell holds a binary float; anything within this of a whole
# fen is a float artefact (1234.5000000001), anything further is a real third decimal.
_FLOAT_TOLERANCE = Decimal("0.000001")


def parse_amount(cell: object) -> Fen:
    """Parse a ledger cell (text or Excel number) into fen.

    Accepts ``1,234.50``, ``¥88``, ``￥88.00``, ``88元``, full-width digits,
    a leading minus or parentheses for negatives, and numeric Excel cells.
    """
    if isinstance(cell, bool):
        raise ValueError(f"金额“{cell}”无法识别")
    if isinstance(cell, int):
        return cell * 100
    if isinstance(cell, float):
        return _fen_from_float(cell)
    if isinstance(cell, Decimal):
        return _fen_from_decimal(cell, str(cell))
    text = str(cell).strip() if cell is not None else ""
    if not text:
        raise ValueError("金额为空")
    return _fen_from_text(text)


def _fen_from_text(original: str) -> Fen:
    text = unicodedata.normalize("NFKC", original).replace(" ", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    for mark in _CURRENCY_MARKS:
        text = text.replace(mark, "")
    if text.startswith("-"):  # ¥-88
        negative, text = not negative, text[1:]
    if _PLAIN_AMOUNT.match(text) is None and _GROUPED_AMOUNT.match(text) is None:
        if re.match(r"^\d+\.\d{3,}$", text):
            raise ValueError(f"金额“{original}”超过两位小数")
        raise ValueError(f"金额“{original}”无法识别，应为数字，如 1,234.50")
    fen = _fen_from_decimal(Decimal(text.replace(",", "")), original)
    return -fen if negative else fen


def _fen_from_float(value: float) -> Fen:
    if not math.isfinite(value):
        raise ValueError(f"金额“{value}”无法识别")
    exact = Decimal(repr(value))
    rounded = exact.quantize(Decimal("0.01"))
    if abs(exact - rounded) > _FLOAT_TOLERANCE:
        raise ValueError(f"金额“{value}”超过两位小数")
    return int(rounded * 100)


def _fen_from_decimal(value: Decimal, original: str) -> Fen:
    try:
        hundredfold = value * 100
        if hundredfold != hundredfold.to_integral_value():
            raise ValueError(f"金额“{original}”超过两位小数")
        return int(hundredfold)
    except InvalidOperation as exc:
        raise ValueError(f"金额“{original}”无法识别") from exc


def to_decimal(fen: Fen) -> Decimal:
    """Fen as a Decimal of yuan with exactly two places."""
    return Decimal(fen).scaleb(-2)  # exact: the same digits, exponent -2


def format_yuan(fen: Fen, *, grouping: bool = False) -> str:
    """``123450`` → ``"1234.50"`` (or ``"1,234.50"`` with grouping)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    whole = f"{yuan:,}" if grouping else str(yuan)
    return f"{sign}{whole}.{cents:02d}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def amount_in_capitals(fen: Fen) -> str:
    """The amount in capitals by the PBOC rules, without the 人民币 prefix.

    One 零 for any run of zeros inside the number; 元零 when the 元 digit or
    the 角 is zero and something follows (¥1,680.32 → 壹仟陆佰捌拾元零叁角贰分,
    ¥325.04 → 叁佰贰拾伍元零肆分); 整 only after 元. cn2an drops the first of
    these 零, so this is ours.
    """
    if fen < 0:
        raise ValueError("大写金额不能是负数")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    whole = _integer_capitals(yuan) + "元" if yuan else ""
    if not cents:
        return (whole or "零元") + "整"
    zero = "零" if yuan and (yuan % 10 == 0 or jiao == 0) else ""
    return (whole + zero + (_DIGITS[jiao] + "角" if jiao else "")
            + (_DIGITS[fen_digit] + "分" if fen_digit else ""))


def _integer_capitals(number: int) -> str:
    groups = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    text, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = bool(text)
            continue
        if text and (gap or group < 1000):
            text += "零"
        text += _group_capitals(group) + _GROUPS[index]
        gap = False
    return text


def _group_capitals(group: int) -> str:
    """1 … 9999 with one 零 for zeros inside (1409 → 壹仟肆佰零玖)."""
    text, gap = "", False
    for place in (3, 2, 1, 0):
        digit = group // 10**place % 10
        if digit == 0:
            gap = bool(text)
            continue
        if gap:
            text += "零"
            gap = False
        text += _DIGITS[digit] + _PLACES[place]
    return text

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
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_yuan(fen: Fen, *, grouping: bool = False) -> str:
    """``123450`` → ``"1234.50"`` (or ``"1,234.50"`` with grouping)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    whole = f"{yuan:,}" if grouping else str(yuan)
    return f"{sign}{whole}.{cents:02d}"

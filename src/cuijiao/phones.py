"""Mainland mobile numbers in a phone cell as a billing export writes it.

A 联系电话 cell is free text: ``13800138000``, ``138 0013 8000``, ``+86 138-0013-8000``,
two numbers (``13800000006；13900000007``, ``13800000006 13900000007``), or a landline
(``0571-88880000``). Letters and call sheets print the cell as written — a caller can
use every number in it — but a text message goes to one mobile number, so ``sms.csv``
takes the first valid one and a cell with none is listed for a call instead.
"""

from __future__ import annotations

import re
import unicodedata

MOBILE = re.compile(r"1[3-9]\d{9}")
# Between two numbers in one cell; spaces and dashes are inside a number as often as between two.
_BETWEEN = re.compile(r"[;,/、|\n]+|或")
_INSIDE = re.compile(r"[\s\-()（）.·]")
_COUNTRY = re.compile(r"^(?:\+86|0086|86)(?=\d{11}$)")


def _mobile(token: str) -> str | None:
    digits = _COUNTRY.sub("", _INSIDE.sub("", token), count=1)
    return digits if MOBILE.fullmatch(digits) else None


def mobile_numbers(cell: str) -> list[str]:
    """Every mainland mobile number in ``cell``, in order, as 11 digits (``+86``/``86``/``0086``,
    spaces and dashes removed); a piece that is no mobile number (a landline, a note) is left out."""
    found: list[str] = []
    text = unicodedata.normalize("NFKC", cell)  # full-width digits, ＋ and ；
    for piece in _BETWEEN.split(text):
        whole = _mobile(piece)
        candidates = [whole] if whole else [_mobile(token) for token in piece.split()]
        found.extend(number for number in candidates if number and number not in found)
    return found


def first_mobile(cell: str) -> str | None:
    """The number a text message goes to: the first mobile number in the cell, if any."""
    numbers = mobile_numbers(cell)
    return numbers[0] if numbers else None

"""Cell parsers with the bounds a sane export stays within.

Each parser takes a raw cell (text, Excel number or date) and returns the
value to store, or raises :class:`ValueError` with a Chinese message that
never quotes personal data. Text that is an identity or a name (房号, 姓名,
收费项目, 收据号 …) may not hold control or format characters (an ESC that
recolours a terminal, U+202E that reverses what a clerk reads, a zero-width
space that makes two ids look equal); free text has them removed.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from cuijiao.dates import Period, parse_date, parse_period
from cuijiao.ingest.readers import cell_text
from cuijiao.money import parse_amount

# C0 and C1 controls (tab, CR and LF are whitespace here), zero-width and
# direction marks, bidirectional embeddings and isolates, BOM, interlinear marks.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_TAG_SEPARATORS = re.compile(r"[;；、,，\s]+")

MAX_AMOUNT_FEN = 10**12 * 100  # ¥1,000,000,000,000
MAX_AREA_M2 = Decimal(100_000)
FIRST_YEAR, LAST_YEAR = 1950, 2100


@dataclass(frozen=True)
class Limits:
    """Longest cell, in characters, for each sort of text (configurable)."""

    id_chars: int = 64
    name_chars: int = 200
    text_chars: int = 2_000


DEFAULT_LIMITS = Limits()


def forbidden_character(text: str) -> str | None:
    """``U+202E`` for the first control or format character in ``text``, else None."""
    if text.isprintable():  # the fast path: nothing to look for
        return None
    found = _FORBIDDEN.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def strip_controls(text: str) -> str:
    """``text`` without control or format characters (a note typed with an escape sequence in it)."""
    return text if text.isprintable() else _FORBIDDEN.sub("", text)


def identity_text(label: str, limit: int, *, required: bool) -> Callable[[object], str]:
    """A parser for an id or a name: NFKC, inner runs of space folded, bounded, no controls."""

    def parse(cell: object) -> str:
        text = unicodedata.normalize("NFKC", cell_text(cell))
        bad = forbidden_character(text)
        if bad:
            raise ValueError(f"{label}含有不可见的控制字符（{bad}），请在原文件中删除后再导入")
        text = " ".join(text.split())
        if required and not text:
            raise ValueError(f"{label}为空")
        if len(text) > limit:
            raise ValueError(f"{label}有 {len(text):,} 个字符，超过上限 {limit:,}")
        return text

    return parse


def free_text(label: str, limit: int) -> Callable[[object], str]:
    """A parser for free text (地址, 标签): control characters removed, bounded."""

    def parse(cell: object) -> str:
        text = unicodedata.normalize("NFKC", cell_text(cell))
        if forbidden_character(text):
            text = _FORBIDDEN.sub("", text)
        text = " ".join(text.split())
        if len(text) > limit:
            raise ValueError(f"{label}有 {len(text):,} 个字符，超过上限 {limit:,}")
        return text

    return parse


def tags_text(limit: int) -> Callable[[object], str]:
    text_of = free_text("标签", limit)

    def parse(cell: object) -> str:
        tags = sorted({tag for tag in _TAG_SEPARATORS.split(text_of(cell)) if tag})
        return json.dumps(tags, ensure_ascii=False)

    return parse


def phone_text(limit: int) -> Callable[[object], str]:
    text_of = identity_text("联系电话", limit, required=False)

    def parse(cell: object) -> str:
        text = text_of(cell)
        return re.sub(r"[\s\-()（）]", "", text) if re.fullmatch(r"[+\d\s\-()（）]*", text) else text

    return parse


def amount_fen(cell: object) -> int:
    """An amount in fen, refused past ¥10^12 (no estate bills that) or when not a number."""
    if isinstance(cell, str) and len(cell) > 64:
        raise ValueError(_too_large(cell))
    if isinstance(cell, float) and (not math.isfinite(cell) or abs(cell) * 100 > MAX_AMOUNT_FEN):
        raise ValueError(_too_large(cell))
    fen = parse_amount(cell)
    if abs(fen) > MAX_AMOUNT_FEN:
        raise ValueError(_too_large(cell))
    return fen


def _too_large(cell: object) -> str:
    big_float = isinstance(cell, float) and not abs(cell) < 1e15
    shown = repr(cell) if big_float else cell_text(cell)
    shown = shown if len(shown) <= 24 else shown[:24] + "…"
    return f"金额“{shown}”超出范围（绝对值应小于 1 万亿元）"


def area_m2(cell: object) -> str:
    shown = cell_text(cell)
    shown = shown if len(shown) <= 24 else shown[:24] + "…"
    text = unicodedata.normalize("NFKC", cell_text(cell)).replace("㎡", "").replace("m2", "")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"面积“{shown}”无法识别，应为数字，如 89.56") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"面积“{shown}”应为正数")
    if value > MAX_AREA_M2:
        raise ValueError(f"面积“{shown}”超过 100,000 平方米，请检查单位和小数点")
    return str(value.quantize(Decimal("0.01")))


def iso_date(cell: object) -> str:
    if isinstance(cell, str) and len(cell) > 64:
        raise ValueError(f"日期“{cell[:24]}…”无法识别，应为 2025-01-05、2025/1/5 或 2025年1月5日")
    return _bounded(parse_date(cell), cell).isoformat()


def _bounded(day: date, cell: object) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"日期“{cell_text(cell)[:24]}”超出范围（{FIRST_YEAR}–{LAST_YEAR} 年）")
    return day


def period_parts(cell: object) -> tuple[str, str, str]:
    period = _bounded_period(cell)
    return period.label, period.start_iso, period.end_iso


def optional_period(cell: object) -> Period | None:
    return _bounded_period(cell) if cell_text(cell) else None


def _bounded_period(cell: object) -> Period:
    text = cell_text(cell)
    if len(text) > 64:
        raise ValueError(f"期间“{text[:24]}…”无法识别，应为 2025-01、2025年1月、202501 或 2025Q1")
    period = parse_period(cell)
    if not (period.start.year >= FIRST_YEAR and period.end.year <= LAST_YEAR):
        raise ValueError(f"期间“{text}”超出范围（{FIRST_YEAR}–{LAST_YEAR} 年）")
    return period

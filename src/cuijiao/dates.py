"""Dates and billing periods as clerks write them.

Every date becomes a :class:`datetime.date`; every period a :class:`Period`
with a canonical label (``2025-01``, ``2025Q1``, ``2025``, ``2025-01~2025-03``)
that is part of a charge's identity, so the same period written two ways is
the same charge.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Excel's day zero in the 1900 date system (it counts a fictitious 1900-02-29).
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_RANGE = (20000, 80000)  # 1954 … 2119: anything else is not a date

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
# A time part that exports sometimes append: "2025-01-05 00:00:00".
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(cell: object) -> date:
    """Parse a date cell: text in the usual Chinese forms, an Excel date, or a serial."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _from_excel_serial(cell)
    text = unicodedata.normalize("NFKC", str(cell if cell is not None else "")).strip()
    if not text:
        raise ValueError("日期为空")
    text = _TIME_SUFFIX.sub("", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(group) for group in match.groups())
            return _checked_date(year, month, day, text)
    raise ValueError(f"日期“{text}”无法识别，应为 2025-01-05、2025/1/5 或 2025年1月5日")


def _checked_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"日期“{text}”不存在") from None


def _from_excel_serial(serial: float) -> date:
    low, high = _EXCEL_SERIAL_RANGE
    if not low <= serial <= high or serial != int(serial):
        raise ValueError(f"日期“{serial}”无法识别")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def chinese_date(day: date) -> str:
    """``2025-03-05`` → ``2025年3月5日``, as dates are written in Chinese prose (no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later; a day the month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, order=True)
class Period:
    """A billing period: first and last day, and the canonical label."""

    start: date
    end: date
    label: str

    @property
    def start_iso(self) -> str:
        return self.start.isoformat()

    @property
    def end_iso(self) -> str:
        return self.end.isoformat()


def month_period(year: int, month: int) -> Period:
    return Period(date(year, month, 1), month_end(year, month), f"{year:04d}-{month:02d}")


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * quarter - 2
    return Period(date(year, first, 1), month_end(year, first + 2), f"{year:04d}Q{quarter}")


_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_QUARTER_PATTERN = re.compile(r"^(\d{4})(?:年)?[-]?(?:Q|第)?([1-4一二三四])(?:季度|季)?$")
_QUARTER_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_YEAR_PATTERN = re.compile(r"^(\d{4})年?(度|全年)?$")
_RANGE_SEPARATORS = re.compile(r"\s*(?:~|～|至|到|—|--)\s*")


def parse_period(cell: object) -> Period:
    """Parse ``2025-01``, ``2025年1月``, ``202501``, ``2025Q1``, ``2025`` or a range."""
    if isinstance(cell, datetime | date):
        day = cell.date() if isinstance(cell, datetime) else cell
        return month_period(day.year, day.month)
    if isinstance(cell, int) and not isinstance(cell, bool):
        cell = str(cell)
    text = unicodedata.normalize("NFKC", str(cell if cell is not None else "")).strip()
    if not text:
        raise ValueError("期间为空")
    compact = text.upper().replace(" ", "")
    parts = _RANGE_SEPARATORS.split(compact)
    if len(parts) == 1 and compact.count("-") == 1 and len(compact) > 8:
        parts = compact.split("-")  # 2025.01-2025.03
    if len(parts) == 2:
        return _range(parts[0], parts[1], text)
    single = _single_period(compact)
    if single is None:
        raise ValueError(f"期间“{text}”无法识别，应为 2025-01、2025年1月、202501 或 2025Q1")
    return single


def _single_period(text: str) -> Period | None:
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            return month_period(year, month) if 1 <= month <= 12 else None
    match = _QUARTER_PATTERN.match(text)
    if match and ("Q" in text or "季" in text):
        digit = match.group(2)
        return quarter_period(int(match.group(1)), _QUARTER_DIGITS.get(digit) or int(digit))
    match = _YEAR_PATTERN.match(text)
    if match:
        year = int(match.group(1))
        return Period(date(year, 1, 1), date(year, 12, 31), f"{year:04d}")
    return None


def _range(first_text: str, last_text: str, original: str) -> Period:
    first, last = _single_period(first_text), _single_period(last_text)
    if first is None or last is None:
        raise ValueError(f"期间“{original}”无法识别，范围应写作 2025-01~2025-03")
    if last.end < first.start:
        raise ValueError(f"期间“{original}”的结束早于开始")
    if first == last:
        return first
    label = f"{first.start:%Y-%m}~{last.end:%Y-%m}"
    return Period(first.start, last.end, label)


_LABEL_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_LABEL_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_LABEL_YEAR = re.compile(r"^(\d{4})$")


def period_words(label: str) -> str:
    """A period label as an owner reads it: ``2024Q1`` → 2024年第1季度, ``2024-03`` → 2024年3月, ranges with 至."""
    if "~" in label:
        first, _sep, last = label.partition("~")
        return f"{period_words(first)}至{period_words(last)}"
    if match := _LABEL_MONTH.match(label):
        return f"{match.group(1)}年{int(match.group(2))}月"
    if match := _LABEL_QUARTER.match(label):
        return f"{match.group(1)}年第{match.group(2)}季度"
    if match := _LABEL_YEAR.match(label):
        return f"{match.group(1)}年"
    return label

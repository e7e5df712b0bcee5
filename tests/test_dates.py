from datetime import date, datetime

import pytest

from cuijiao.dates import add_months, chinese_date, parse_date, parse_period


@pytest.mark.parametrize(
    "cell",
    ["2025-01-05", "2025/1/5", "2025.01.05", "2025年1月5日", "20250105", "2025-01-05 00:00:00",
     date(2025, 1, 5), datetime(2025, 1, 5, 13, 30), 45662, 45662.0],
)
def test_parse_date_forms(cell: object) -> None:
    assert parse_date(cell) == date(2025, 1, 5)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2026-02-30", "日期“2026-02-30”不存在"),
        ("2025-13-01", "日期“2025-13-01”不存在"),
        ("下月初", "日期“下月初”无法识别，应为 2025-01-05、2025/1/5 或 2025年1月5日"),
        ("", "日期为空"),
        (12.5, "日期“12.5”无法识别"),
    ],
)
def test_parse_date_errors(cell: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(cell)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("cell", "label", "start", "end"),
    [
        ("2025-01", "2025-01", date(2025, 1, 1), date(2025, 1, 31)),
        ("2025年1月", "2025-01", date(2025, 1, 1), date(2025, 1, 31)),
        ("202502", "2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        (202502, "2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        ("2025Q1", "2025Q1", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025年第4季度", "2025Q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("2024", "2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2025-01~2025-03", "2025-01~2025-03", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025年1月至2025年6月", "2025-01~2025-06", date(2025, 1, 1), date(2025, 6, 30)),
        ("2025.01-2025.03", "2025-01~2025-03", date(2025, 1, 1), date(2025, 3, 31)),
        (date(2025, 7, 9), "2025-07", date(2025, 7, 1), date(2025, 7, 31)),
    ],
)
def test_parse_period_forms(cell: object, label: str, start: date, end: date) -> None:
    period = parse_period(cell)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize("cell", ["2025-13", "上个月", "2025Q5", "2025-03~2025-01", ""])
def test_parse_period_errors(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_period(cell)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_chinese_dates_have_no_leading_zeros() -> None:
    assert chinese_date(date(2025, 3, 5)) == "2025年3月5日"
    assert chinese_date(date(2026, 11, 25)) == "2026年11月25日"

"""收缴率 counts each charge in exactly one month (issue #8 item 8), worked by hand, both paths."""

from datetime import date

import pytest

from cuijiao.aging import AgingReport, Buckets, UnitLedger, build_report
from cuijiao.allocated import age, allocate_estate
from cuijiao.allocation import Charge, Payment

# October's fee (billed 10-01, due 10-10) and the fourth quarter's energy fee, billed on
# 10-01 but due 11-15. 150.00 paid on 10-12 pays October (100.00) and prepays 50.00 of Q4.
LEDGER = UnitLedger("1-101", "1栋", "张三",
                    [Charge(1, "物业费", "2025-10", date(2025, 10, 10), 100_00, date(2025, 10, 1)),
                     Charge(2, "公共能耗分摊费", "2025Q4", date(2025, 11, 15), 300_00, date(2025, 10, 1))],
                    [Payment(3, date(2025, 10, 12), 150_00)])


def kpis(report: AgingReport) -> tuple[int, int, int, int]:
    kpi = report.total.kpi
    assert kpi is not None
    return kpi.billed_fen, kpi.collected_fen, kpi.arrears_start_fen, kpi.arrears_collected_fen


def both(as_of: date, month_of: str) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    exact = build_report([LEDGER], as_of, Buckets(), kpi_month=month_of)
    columns = age(allocate_estate([LEDGER]), as_of, Buckets(), kpi_month=month_of)
    assert columns.exact_elsewhere == []
    return kpis(exact), kpis(columns.report)


@pytest.mark.parametrize(("as_of", "month_of", "expected"), [
    # By due date: October is the fee alone, paid in full; November is Q4, 50.00 of it prepaid.
    (date(2025, 10, 31), "due_date", (100_00, 100_00, 0, 0)),
    (date(2025, 11, 30), "due_date", (300_00, 50_00, 0, 0)),
    # By period start: both charges are October's; November has none.
    (date(2025, 10, 31), "period_start", (400_00, 150_00, 0, 0)),
    (date(2025, 11, 30), "period_start", (0, 0, 0, 0)),
])
def test_each_charge_counts_in_one_month(as_of: date, month_of: str, expected: tuple[int, ...]) -> None:
    exact, columns = both(as_of, month_of)
    assert exact == columns == expected

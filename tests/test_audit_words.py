"""``audit log`` in words a clerk reads: what changed, amounts in yuan, tags as tags, every event kind named."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import UNIT_HEADER, UNITS, Invoke, write_csv
from cuijiao.cli.audit_text import DESCRIBE, describe
from cuijiao.outcomes import Kind
from test_record import CHARGES

PAYMENTS = [["房号", "实收金额", "收款日期", "收据号"], ["1-101", "100.00", "2025-01-20", "R001"]]


def _texts(cli: Invoke, unit: str) -> list[str]:
    result = cli("--json", "audit", "log", "--unit", unit)
    assert result.exit_code == 0, result.output
    return [event["text"] for event in json.loads(result.stdout)["events"]]


def test_replaced_rows_show_what_changed(with_units: Invoke, tmp_path: Path) -> None:
    assert with_units("import", "charges", str(write_csv(tmp_path / "c.csv", CHARGES))).exit_code == 0
    changed = [CHARGES[0], ["1-101", "物业费", "2025-01", "2025-01-15", "1250.00"]]
    assert with_units("import", "charges", str(write_csv(tmp_path / "ch3.csv", changed)), "--replace").exit_code == 0
    assert with_units("import", "payments", str(write_csv(tmp_path / "p.csv", PAYMENTS))).exit_code == 0
    paid = [PAYMENTS[0], ["1-101", "120.00", "2025-01-20", "R001"]]
    assert with_units("import", "payments", str(write_csv(tmp_path / "p2.csv", paid)), "--replace").exit_code == 0
    texts = _texts(with_units, "1-101")
    charge = next(text for text in texts if text.startswith("替换应收"))
    assert "ch3.csv 第 2 行" in charge
    assert "金额 ¥100.00 → ¥1,250.00" in charge and "应缴日期 2025-01-10 → 2025-01-15" in charge
    payment = next(text for text in texts if text.startswith("替换实收"))
    assert "金额 ¥100.00 → ¥120.00" in payment
    assert not any("--json" in text or "amount_fen" in text for text in texts), texts


def test_a_unit_change_shows_tags_and_masked_phones(with_units: Invoke, tmp_path: Path) -> None:
    changed = [UNIT_HEADER, ["1-102", "1栋", "李四", "13911112222", "120", "出租;空置"]]
    assert with_units("import", "units", str(write_csv(tmp_path / "u.csv", changed))).exit_code == 0
    text = next(text for text in _texts(with_units, "1-102") if text.startswith("房屋资料变更"))
    assert "标签 （无） → 出租、空置" in text, text
    assert "电话 139****9000 → 139****2222" in text, text
    assert not re.search(r"[\[\]']", text), text
    assert UNITS[1][3].replace(" ", "") not in text


def test_every_event_kind_cuijiao_records_has_words() -> None:
    source = Path(__file__).parents[1] / "src" / "cuijiao"
    kinds = {kind for path in source.rglob("*.py")
             for kind in re.findall(r"(?:append_event|events\.append)\([^\"]*?\"([a-z_]+\.[a-z_.]+)\"",
                                 path.read_text("utf-8"), re.S)}
    assert {"notice.issue", "unit.update", "allocation.update", "ledger.outside_change"} <= kinds
    assert kinds - set(DESCRIBE) == set()
    for kind in Kind:
        said = describe(f"outcome.{kind.value}", {"on": "2025-01-01"})
        assert not said.startswith("记录 "), said  # the fallback: the kind's English key
    for table in ("charges", "payments"):  # written as f"{table.name}.replace"
        assert f"{table}.replace" in DESCRIBE


def test_tables_touched_outside_cuijiao_are_named_in_chinese() -> None:
    said = describe("ledger.outside_change", {"touched": [["charges", 3]]})
    assert "应收" in said and "charges" not in said

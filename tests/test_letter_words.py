"""The letters read as an owner reads them: what they claim is what was recorded (python-docx reads them back)."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import docx

from cuijiao.dates import period_words
from cuijiao.documents.context import company_from, example_company, example_facts, letter_context
from cuijiao.documents.facts import LetterFacts, Line
from cuijiao.documents.sms import Text, sms_csv
from cuijiao.documents.templates import Library


def rendered(tmp_path: Path, name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(body and tables, header) of a shipped template rendered with ``context``."""
    path = tmp_path / f"{name}.docx"
    path.write_bytes(Library(None).get(name).render(context))
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    return "\n".join(parts), header


def facts_at(stage: int, **changes: Any) -> LetterFacts:
    facts = example_facts()
    return replace(facts, notice=replace(facts.notice, stage=stage), **changes)


def test_dispute_letter_states_deadline_and_art_944_and_only_what_was_recorded(tmp_path: Path) -> None:
    no_dispute = facts_at(2, segment="dispute", dispute=None)
    text, _ = rendered(tmp_path, "dispute", letter_context(no_dispute, example_company()))
    assert "第九百四十四条" in text and "2026年12月13日前" in text  # the recorded deadline, the legal basis
    assert "已登记" not in text and "您反映的问题" in text
    assert not any(word in text for word in ("诉讼", "起诉", "律师", "支付令", "仲裁", "法院"))
    recorded = facts_at(2, segment="dispute")
    text, _ = rendered(tmp_path, "dispute", letter_context(recorded, example_company()))
    assert "2026年10月8日收到您反映的“电梯噪音”问题并已登记" in text


def test_absentee_letter_is_titled_by_stage_and_claims_no_contact_or_bank_it_lacks(tmp_path: Path) -> None:
    no_bank = replace(example_company(), account="", bank="", channels=("物业服务中心前台",))
    text, _ = rendered(tmp_path, "absentee", letter_context(facts_at(2, segment="absentee"), no_bank))
    assert text.splitlines()[0] == "催缴通知书" and "文书名称\n催缴通知书" in "\n".join(text.splitlines())
    assert "联系您" not in text and "未果" not in text
    assert "银行转账" not in text and "物业服务中心前台" in text
    called = facts_at(3, segment="absentee", contact_attempts=2)
    text, _ = rendered(tmp_path, "absentee", letter_context(called, example_company()))
    assert text.splitlines()[0] == "催缴函" and "已电话联系您 2 次" in text and "银行转账" in text


def test_developer_statement_total_is_the_recorded_amount_of_its_unit(tmp_path: Path) -> None:
    facts = facts_at(2, segment="developer",
                     sibling_units=(("3-2-1502", 140950), ("3-2-1503", 2317354), ("3-2-1504", 0)))
    text, _ = rendered(tmp_path, "developer", letter_context(facts, example_company()))
    assert facts.notice.amount_fen == 140950
    assert "1,409.50" in text and "人民币壹仟肆佰零玖元伍角" in text
    assert "23,173.54" not in text and "24,583.04" not in text  # no other unit's figure, no grand total
    assert "3-2-1503" in text and "另有对账单" in text and "3-2-1504" not in text


def test_lawyer_letter_is_the_firms_never_under_the_company_letterhead(tmp_path: Path) -> None:
    text, header = rendered(tmp_path, "stage4_lawyer", letter_context(facts_at(4), example_company()))
    assert "翠湖物业服务有限公司" not in header and "____" in header
    assert "律师：____________（签名）" in text
    firm = replace(example_company(), lawyer_firm="浙江明理律师事务所", lawyer_name="王律师",
                   lawyer_phone="0571-86660000")
    text, header = rendered(tmp_path, "stage4_lawyer", letter_context(facts_at(4), firm))
    assert "浙江明理律师事务所" in header and "0571-86660000" in header and "翠湖物业" not in header
    assert "浙江明理律师事务所接受翠湖物业服务有限公司" in text and "律师：王律师（签名）" in text


def test_periods_are_printed_in_words(tmp_path: Path) -> None:
    assert period_words("2024Q1") == "2024年第1季度" and period_words("2024-03") == "2024年3月"
    assert period_words("2024-01~2024-03") == "2024年1月至2024年3月" and period_words("2024") == "2024年"
    facts = replace(example_facts(), lines=(Line("物业服务费", "2024Q1", date(2024, 3, 31), 70475),
                                            Line("物业服务费", "2024-04", date(2024, 4, 30), 70475)))
    text, _ = rendered(tmp_path, "stage2_notice", letter_context(facts, example_company()))
    assert "2024年第1季度" in text and "2024年4月" in text and "2024Q1" not in text
    assert "2024-04" not in text.splitlines()


def test_sms_names_the_owed_item() -> None:
    def body(*items: str) -> str:
        data = sms_csv([Text("13800138000", "P-001", "CJ2026-000001", "张三", 8000, date(2026, 12, 10), items)],
                       "翠湖花园", "0571-88880000")
        return list(csv.reader(data.decode("utf-8-sig").splitlines()))[1][3]

    assert "车位管理费尚欠80.00元" in body("车位管理费") and "物业费" not in body("车位管理费")
    assert "费用尚欠80.00元" in body("车位管理费", "物业服务费")



def test_letters_refuse_the_placeholder_company_and_estate_names(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from cuijiao.cli import app  # noqa: PLC0415
    from cuijiao.documents.context import check_company  # noqa: PLC0415
    from cuijiao.errors import ConfigError  # noqa: PLC0415
    from cuijiao.workspace import open_workspace  # noqa: PLC0415

    bare = tmp_path / "bare"
    assert CliRunner().invoke(app, ["init", str(bare), "--company-address", "翠湖路1号",
                                    "--company-phone", "0571-88880000"]).exit_code == 0
    workspace = open_workspace(bare)
    try:
        check_company(company_from(workspace.settings))
    except ConfigError as exc:
        message = str(exc)
    else:
        raise AssertionError("letters went out as 示例物业服务有限公司")
    finally:
        workspace.close()
    assert "[company] 下的 name 改为实际名称" in message and "[estate] 下的 name" in message
    named = tmp_path / "named"
    assert CliRunner().invoke(app, ["init", str(named), "--company-name", "翠湖物业服务有限公司", "--estate-name",
                                    "翠湖花园", "--company-address", "翠湖路1号", "--company-phone",
                                    "0571-88880000"]).exit_code == 0
    workspace = open_workspace(named)
    settings = workspace.settings
    workspace.close()
    assert (settings.company_name, settings.estate_name) == ("翠湖物业服务有限公司", "翠湖花园")
    check_company(company_from(settings))  # every line set: nothing refused


def test_the_lawyer_section_of_cuijiao_toml_reaches_the_letter(tmp_path: Path) -> None:
    from cuijiao.config import DEFAULT_CONFIG, load_settings  # noqa: PLC0415

    path = tmp_path / "cuijiao.toml"
    path.write_text(DEFAULT_CONFIG.replace('firm = ""', 'firm = "浙江明理律师事务所"'), encoding="utf-8")
    company = company_from(load_settings(path))
    assert company.lawyer_firm == "浙江明理律师事务所"
    _, header = rendered(tmp_path, "stage4_lawyer", letter_context(facts_at(4), company))
    assert "浙江明理律师事务所" in header

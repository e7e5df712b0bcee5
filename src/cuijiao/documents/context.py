"""A letter's template context: the recorded facts and the company's settings as text. Pure.

Every value a template prints is ready text (amounts as ``1,409.50``, dates as
``2026年11月28日``), so templates need no filters and a clerk editing one in
Word sees plain names. ``VARIABLES`` documents each name with an example;
``templates check`` renders every template against the example context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cuijiao.config import PLACEHOLDER_COMPANY, PLACEHOLDER_ESTATE, Settings
from cuijiao.dates import add_months, chinese_date, period_words
from cuijiao.documents.facts import Earlier, LetterFacts, Line, Owner
from cuijiao.errors import ConfigError
from cuijiao.money import amount_in_capitals, format_yuan
from cuijiao.stages import STAGE_NAMES, Purpose
from cuijiao.store.notices import StoredNotice

SEGMENT_LABELS = {"dispute": "服务争议", "developer": "开发商", "absentee": "空置/外地", "tenant": "出租",
                  "hardship": "经济困难", "chronic": "长期拒缴", "reminder": "提醒", "unmatched": "未归类"}


@dataclass(frozen=True)
class Company:
    """The letterhead and contact lines, from cuijiao.toml."""

    name: str
    address: str
    phone: str
    bank: str
    account: str
    estate: str
    contact_name: str
    contact_phone: str
    hours: str
    channels: tuple[str, ...]
    lawyer_firm: str = ""
    lawyer_name: str = ""
    lawyer_phone: str = ""


def company_from(settings: Settings) -> Company:
    return Company(settings.company_name, settings.company_address, settings.company_phone,
                   settings.company_bank, settings.company_account,
                   settings.estate_name, settings.contact_name, settings.contact_phone, settings.contact_hours,
                   settings.payment_channels, settings.lawyer_firm, settings.lawyer_name, settings.lawyer_phone)


def check_company(company: Company) -> None:
    """A letter cannot go out without the company's and estate's real names, its address and a phone to call.

    The names ``cuijiao init`` writes (示例物业服务有限公司, 示例小区) count as missing: a letter under them is
    not the company's letter.
    """
    missing = []
    if not company.estate.strip() or company.estate == PLACEHOLDER_ESTATE:
        missing.append(("estate", "name", "某某花园"))
    if not company.name.strip() or company.name == PLACEHOLDER_COMPANY:
        missing.append(("company", "name", "某某物业服务有限公司"))
    if not company.address.strip():
        missing.append(("company", "address", "某市某区某路 1 号"))
    if not (company.phone.strip() or company.contact_phone.strip()):
        missing.append(("company", "phone", "0571-88880000"))
    if not company.channels:
        missing.append(("payment", "channels", '["物业服务中心前台"]'))
    if missing:
        lines = "；".join((f"[{section}] 下的 {key} 改为实际名称（现为示例值或空），如 " if key == "name"
                          else f"[{section}] 下加一行 ")
                         + f"{key} = {example if example.startswith('[') else repr(example)}".replace("'", '"')
                         for section, key, example in missing)
        raise ConfigError(f"cuijiao.toml 缺少信件必需的设置：{lines}。未发出任何通知")


def yuan(fen: int) -> str:
    return format_yuan(fen, grouping=True)


def _line(line: Line, issued_on: date) -> dict[str, Any]:
    return {"item": line.item, "period": period_words(line.period), "due_date": line.due_date.isoformat(),
            "owed": yuan(line.owed_fen), "days_overdue": max((issued_on - line.due_date).days, 0),
            "limitation_ends": chinese_date(line.limitation_ends) if line.limitation_ends else ""}


def _earlier(earlier: Earlier) -> dict[str, Any]:
    return {"notice_no": earlier.notice_no, "stage_name": earlier.stage_name,
            "issued_on": chinese_date(earlier.issued_on), "amount": yuan(earlier.amount_fen),
            "deadline": chinese_date(earlier.deadline) if earlier.deadline else "",
            "delivery": "；".join(f"{chinese_date(d.delivered_on)} {d.method}"
                                  f"{'，签收人 ' + d.signer if d.signer else ''}"
                                  f"{'（' + d.relation + '）' if d.relation else ''}"
                                  f"{'，凭证 ' + d.evidence if d.evidence else ''}" for d in earlier.deliveries)
            or "未记录送达"}


def instalments(total_fen: int, first_due: date) -> list[dict[str, Any]]:
    """An instalment offer: 3 months under ¥1,000, else 6; equal parts in fen, the remainder first."""
    count = 3 if total_fen < 100000 else 6
    part, rest = divmod(total_fen, count)
    return [{"number": k + 1, "due_date": chinese_date(add_months(first_due, k)),
             "amount": yuan(part + (rest if k == 0 else 0))} for k in range(count)]


def deadline_of(notice: StoredNotice) -> date:
    """The day a letter asks payment by: the notice's deadline, else 15 days after it was issued."""
    return notice.deadline or notice.issued_on + timedelta(days=15)


def letter_context(facts: LetterFacts, company: Company) -> dict[str, Any]:
    """The template context of one letter."""
    notice, owner = facts.notice, facts.owner
    total = notice.amount_fen
    deadline = deadline_of(notice)
    return {
        "notice_no": notice.notice_no,
        "stage": notice.stage,
        "stage_name": STAGE_NAMES[notice.stage],
        "purpose": notice.purpose.value,
        "segment": facts.segment,
        "segment_label": SEGMENT_LABELS.get(facts.segment, facts.segment),
        "date": chinese_date(notice.issued_on),
        "deadline": chinese_date(deadline),
        "owner": {"name": owner.name, "unit": owner.unit_id, "building": owner.building, "phone": owner.phone,
                  "address": owner.address},
        "estate": company.estate,
        "company": {"name": company.name, "address": company.address, "phone": company.phone or company.contact_phone,
                    "bank": company.bank, "account": company.account},
        "contact": {"name": company.contact_name, "phone": company.contact_phone or company.phone,
                    "hours": company.hours},
        "payment_channels": list(company.channels),
        "lines": [_line(line, notice.issued_on) for line in facts.lines],
        "total": yuan(total),
        "total_capital": "人民币" + amount_in_capitals(total),
        "history": [_earlier(e) for e in facts.history],
        "dispute": {"since": chinese_date(facts.dispute[0]), "reason": facts.dispute[1] or "服务问题"}
        if facts.dispute else {"since": "", "reason": ""},
        "instalments": instalments(total, deadline),
        # developer: each unit has its own recorded notice, so a letter states that unit's figures only
        "units": [{"unit": owner.unit_id, "owed": yuan(total)}],
        "units_total": yuan(total),
        "other_units": [unit for unit, fen in facts.sibling_units if unit != owner.unit_id and fen > 0],
        "contact_attempts": facts.contact_attempts,
        "lawyer": {"firm": company.lawyer_firm, "name": company.lawyer_name, "phone": company.lawyer_phone},
        "approved_by": facts.approved_by or "",
    }


def example_facts() -> LetterFacts:
    issued = date(2026, 11, 28)
    notice = StoredNotice("CJ2026-000123", 1, "3-2-1502", 3, issued, issued + timedelta(days=15), 140950,
                          (11, 12), Purpose.LADDER)
    owner = Owner("3-2-1502", "3栋", "张三", "13800138000", "杭州市西湖区文三路 100 号", ("出租",))
    lines = (Line("物业服务费", "2026-07", date(2026, 7, 31), 70475, date(2029, 7, 31)),
             Line("物业服务费", "2026-08", date(2026, 8, 31), 70475, date(2029, 8, 31)))
    history = (Earlier("CJ2026-000045", 2, date(2026, 9, 1), date(2026, 9, 16), 70475,
                       ()),)
    return LetterFacts(notice, "reminder", None, owner, lines, history, (date(2026, 10, 8), "电梯噪音"),
                       (("3-2-1502", 140950),), "2026-11-20 承诺缴费")


def example_company() -> Company:
    return Company("翠湖物业服务有限公司", "杭州市西湖区翠湖路 1 号", "0571-88880000", "工商银行翠湖支行",
                   "1202 0000 0000 0000 000", "翠湖花园", "翠湖花园物业服务中心", "0571-88880001",
                   "工作日 9:00-17:30", ("物业服务中心前台（现金、刷卡、扫码）", "银行转账（备注房号）"))


def example_context() -> dict[str, Any]:
    return letter_context(example_facts(), example_company())


# name → what it is (README and `templates check` read this)
VARIABLES: dict[str, str] = {
    "notice_no": "通知编号", "stage": "级别（1–5）", "stage_name": "级别名称", "purpose": "ladder 逐级催缴 / limitation 时效催告",
    "segment": "分群名", "segment_label": "分群中文名", "date": "发出日期", "deadline": "缴费期限",
    "owner.name": "业主全名（信件不打码）", "owner.unit": "房号", "owner.building": "楼栋", "owner.phone": "联系电话",
    "owner.address": "通讯地址", "estate": "小区名称", "company.name": "公司全称", "company.address": "公司地址",
    "company.phone": "公司电话", "company.bank": "开户行", "company.account": "银行账号",
    "contact.name": "联系部门", "contact.phone": "联系电话", "contact.hours": "办公时间",
    "payment_channels": "缴费方式（列表）", "lines": "欠费明细（列表）：item period due_date owed days_overdue limitation_ends",
    "total": "欠费合计（小写）", "total_capital": "欠费合计（大写，含“人民币”）",
    "history": "本案此前的通知（列表）：notice_no stage_name issued_on deadline amount delivery",
    "dispute": "未解决的投诉：since reason", "instalments": "分期方案（列表）：number due_date amount",
    "units": "本函所涉房屋（列表）：unit owed", "units_total": "本函所涉欠费合计",
    "other_units": "开发商名下另行发函的其他欠费房号（列表）", "contact_attempts": "已记录的电话联系次数",
    "lawyer.firm": "律师事务所（[lawyer] firm）", "lawyer.name": "律师", "lawyer.phone": "律师电话", "approved_by": "批准人（第 4、5 级）",
}

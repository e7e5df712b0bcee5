"""``cuijiao.toml`` → :class:`Settings`.

Unknown sections and keys are errors, so a typo never silently falls back to
a default. Sections that later features read are parsed where they live; this
module owns the ones every command needs.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cuijiao.aging import DEFAULT_BUCKET_LIMITS, KPI_MONTHS, Buckets
from cuijiao.errors import ConfigError
from cuijiao.ingest.fields import FIELDS
from cuijiao.money import parse_amount
from cuijiao.segments import DEFAULT_RULES, Condition, ConditionError, Rule, default_rules
from cuijiao.stages import Policy

CONFIG_NAME = "cuijiao.toml"

DEFAULT_CONFIG = """\
# cuijiao 工作区配置 (workspace settings). Lines starting with # are comments.
# Edit the values below for your estate; keep the quotes around text.

[estate]
# 小区名称, shown on letters and reports.
name = "示例小区"

[company]
# 物业服务企业全称, as on the company seal.
name = "示例物业服务有限公司"
# Printed on every letter; a letter cannot go out without the address and a phone.
address = ""
phone = ""
# Bank account for transfers (开户行, 账号), printed on letters when set.
bank = ""
account = ""

[contact]
# The person or desk owners call about their account.
name = "物业服务中心"
phone = ""
hours = "工作日 9:00-17:30"

[payment]
# Ways owners can pay, one line each, printed on every letter.
channels = [
  "物业服务中心前台（现金、刷卡、扫码）",
]

[import]
# Extra header names your billing system uses, per field. The built-in
# synonyms (房号, 业主姓名, 应收金额 …) always apply as well. Fields:
# unit_id building owner_name phone area_m2 tags address item period
# due_date amount paid_on receipt_no bill_no
# synonyms = { unit_id = ["户号"], amount = ["本期应收"] }
synonyms = {}
# Items that are deposits, not receivables: imported, never allocated.
deposit_items = ["装修押金", "装修保证金", "押金"]

[aging]
# Days-past-due buckets for the aging report: the upper limit of each bucket.
# These give 1-30, 31-90, 91-180, 181-365, 366-730, 731-1095 and 1096+.
buckets = [30, 90, 180, 365, 730, 1095]
# 收缴率 counts each charge in one month: "due_date" (the month it falls due) or
# "period_start" (the month its billing period starts).
kpi_month = "due_date"

[limitation]
# List charges whose limitation period (诉讼时效) ends within this many days.
warn_days = 90
# Statutory holidays and adjusted working days (调休) for years the built-in
# calendar does not cover yet, from the State Council's notice, e.g.
# holidays = ["2027-01-01", "2027-02-06"]  workdays = ["2027-02-14"]
holidays = []
workdays = []

[stages]
# The collection ladder: 1 缴费提醒, 2 催缴通知书, 3 催缴函, 4 律师函, 5 诉讼材料.
# Days the oldest charge must be overdue before each stage may be issued:
thresholds = [15, 30, 90, 180, 365]
# Days between two notices, and the payment deadline a letter gives.
min_interval_days = 15
deadline_days = 15
# No notice while the overdue total is below this (yuan).
minimum = "50.00"
# Stages that need --approve before they are issued.
approval_stages = [4, 5]
# The highest stage per segment (segments not listed go up to 5).
max_stage = { dispute = 2 }

[report]
# A font with Chinese glyphs for the charts of the monthly report: a font file
# or a family name. Empty: the first one found on this machine.
font = ""
"""

SEGMENTS_HELP = """
# Collection segments (分群), tried in order: the first whose "when" holds wins.
# A condition tests the unit's facts, for example:
#   oldest_days >= 365 or broken_promises >= 1      "空置" in tags or not reachable_phone
# Facts: tags owner_type owner_group overdue_total oldest_days months_in_arrears
#   open_dispute promise_in_effect broken_promises on_hold notices_ignored credit
#   reachable_phone (amounts in yuan). See: cuijiao segment --explain UNIT
"""


def _segments_toml() -> str:
    blocks = [SEGMENTS_HELP]
    for name, label, when, strategy in DEFAULT_RULES:
        blocks.append(f"[[segments]]\nname = \"{name}\"\nlabel = \"{label}\"\nwhen = '{when}'\n"
                      f"strategy = \"{strategy}\"\n")
    return "\n".join(blocks)


DEFAULT_CONFIG += _segments_toml()


def with_company(text: str, values: Mapping[str, str]) -> str:
    """The config text with [company] keys set (``cuijiao init --company-name …``)."""
    head, rest = text.split("[company]\n", 1)
    section, tail = rest.split("\n[contact]", 1)
    for key, value in values.items():
        line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
        section = re.sub(rf'^{key} = ".*"$', line.replace("\\", "\\\\"), section, count=1, flags=re.MULTILINE)
    return head + "[company]\n" + section + "\n[contact]" + tail


@dataclass(frozen=True)
class Settings:
    estate_name: str = "示例小区"
    company_name: str = "示例物业服务有限公司"
    company_address: str = ""
    company_phone: str = ""
    company_bank: str = ""
    company_account: str = ""
    contact_name: str = "物业服务中心"
    contact_phone: str = ""
    contact_hours: str = ""
    payment_channels: tuple[str, ...] = ()
    header_synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    deposit_items: tuple[str, ...] = ("装修押金", "装修保证金", "押金")
    # Longest cell accepted at import, in characters: ids, names, free text.
    cell_limits: tuple[int, int, int] = (64, 200, 2_000)
    aging_buckets: tuple[int, ...] = DEFAULT_BUCKET_LIMITS
    kpi_month: str = "due_date"  # 收缴率: a charge counts in the month of its due date, or of its period start
    limitation_warn_days: int = 90
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()
    segment_rules: tuple[Rule, ...] = field(default_factory=default_rules)
    policy: Policy = field(default_factory=Policy)
    report_font: str = ""


_KNOWN: dict[str, set[str]] = {
    "estate": {"name"},
    "company": {"name", "address", "phone", "bank", "account"},
    "contact": {"name", "phone", "hours"},
    "payment": {"channels"},
    "import": {"synonyms", "deposit_items", "max_id_chars", "max_name_chars", "max_text_chars"},
    "aging": {"buckets", "kpi_month"},
    "limitation": {"warn_days", "holidays", "workdays"},
    "report": {"font"},
    "stages": {"thresholds", "min_interval_days", "deadline_days", "minimum", "approval_stages", "max_stage"},
}


def load_settings(path: Path) -> Settings:
    """Read and check ``cuijiao.toml``; a missing file gives the defaults."""
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: 不是 UTF-8 编码的文本文件") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: 格式错误：{exc}") from exc
    _check_keys(path.name, data)
    return _settings_from(path.name, data, path.read_text(encoding="utf-8"))


def _check_keys(name: str, data: dict[str, Any]) -> None:
    for section, values in data.items():
        if section == "segments":
            continue  # an array of tables, checked by _segment_rules
        if section not in _KNOWN:
            raise ConfigError(f"{name}: 未知的配置节 [{section}]")
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: [{section}] 应为配置节")
        for key in values:
            if key not in _KNOWN[section]:
                raise ConfigError(f"{name}: [{section}] 中未知的配置项 {key}")


def _text(name: str, data: dict[str, Any], section: str, key: str, default: str) -> str:
    value = data.get(section, {}).get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{name}: [{section}] {key} 应为文本（加引号）")
    return value


def _text_list(name: str, data: dict[str, Any], section: str, key: str) -> tuple[str, ...]:
    value = data.get(section, {}).get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{name}: [{section}] {key} 应为文本列表，如 [\"甲\", \"乙\"]")
    return tuple(value)


def _synonyms(name: str, data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    raw = data.get("import", {}).get("synonyms", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: [import] synonyms 应为表，如 {{ unit_id = [\"户号\"] }}")
    result: dict[str, tuple[str, ...]] = {}
    for field_name, headers in raw.items():
        if field_name not in FIELDS:
            known = " ".join(FIELDS)
            raise ConfigError(f"{name}: [import] synonyms 中未知的字段 {field_name}（可用：{known}）")
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            raise ConfigError(f"{name}: [import] synonyms.{field_name} 应为文本列表")
        result[field_name] = tuple(headers)
    return result


def _settings_from(name: str, data: dict[str, Any], text: str = "") -> Settings:
    defaults = Settings()
    deposits = _text_list(name, data, "import", "deposit_items")
    return Settings(
        estate_name=_text(name, data, "estate", "name", defaults.estate_name),
        company_name=_text(name, data, "company", "name", defaults.company_name),
        company_address=_text(name, data, "company", "address", ""),
        company_phone=_text(name, data, "company", "phone", ""),
        company_bank=_text(name, data, "company", "bank", ""),
        company_account=_text(name, data, "company", "account", ""),
        contact_name=_text(name, data, "contact", "name", defaults.contact_name),
        contact_phone=_text(name, data, "contact", "phone", ""),
        contact_hours=_text(name, data, "contact", "hours", ""),
        payment_channels=_text_list(name, data, "payment", "channels"),
        header_synonyms=_synonyms(name, data),
        deposit_items=deposits if "deposit_items" in data.get("import", {}) else defaults.deposit_items,
        cell_limits=(_whole(name, data, "import", "max_id_chars", defaults.cell_limits[0]),
                     _whole(name, data, "import", "max_name_chars", defaults.cell_limits[1]),
                     _whole(name, data, "import", "max_text_chars", defaults.cell_limits[2])),
        aging_buckets=_buckets(name, data),
        kpi_month=_kpi_month(name, data),
        limitation_warn_days=_whole(name, data, "limitation", "warn_days", 90),
        extra_holidays=_days(name, data, "limitation", "holidays"),
        extra_workdays=_days(name, data, "limitation", "workdays"),
        segment_rules=(rules := _segment_rules(name, data, text)),
        policy=_policy(name, data, {rule.name for rule in rules}, text),
        report_font=_text(name, data, "report", "font", ""),
    )


def _place_of(name: str, text: str, key: str) -> str:
    """``file:line`` of the first line that sets ``key``, for messages about it."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key} ") or line.strip().startswith(f"{key}="):
            return f"{name}:{number}"
    return name


def _policy(name: str, data: dict[str, Any], segments: set[str], text: str) -> Policy:
    section, defaults = data.get("stages", {}), Policy()
    thresholds = section.get("thresholds", [defaults.thresholds[s] for s in sorted(defaults.thresholds)])
    if not isinstance(thresholds, list) or len(thresholds) != 5 or not all(
            isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in thresholds):
        raise ConfigError(f"{name}: [stages] thresholds 应为 5 个非负整数（第 1 至 5 级的逾期天数）")
    approval = section.get("approval_stages", sorted(defaults.approval_stages))
    if not isinstance(approval, list) or not all(a in (1, 2, 3, 4, 5) for a in approval):
        raise ConfigError(f"{name}: [stages] approval_stages 应为 1 至 5 的级别列表")
    caps = section.get("max_stage", dict(defaults.max_stage_by_segment))
    if not isinstance(caps, dict):
        raise ConfigError(f"{name}: [stages] max_stage 应为表，如 {{ dispute = 2 }}")
    for segment, cap in caps.items():
        if segment not in segments:
            known = "、".join(sorted(segments))
            place = _place_of(name, text, "max_stage")
            raise ConfigError(f"{place}: [stages] max_stage 中未知的分群 {segment}（已定义：{known}）")
        if cap not in (1, 2, 3, 4, 5):
            raise ConfigError(f"{name}: [stages] max_stage.{segment} 应为 1 至 5")
    minimum = section.get("minimum", "50.00")
    try:
        minimum_fen = parse_amount(minimum)
    except ValueError as exc:
        raise ConfigError(f"{name}: [stages] minimum：{exc}") from None
    return Policy(dict(enumerate(thresholds, start=1)),
                  _whole(name, data, "stages", "min_interval_days", defaults.min_interval_days),
                  _whole(name, data, "stages", "deadline_days", defaults.deadline_days),
                  minimum_fen, frozenset(approval), caps)


_SEGMENT_KEYS = {"name", "label", "when", "strategy"}


def _segment_rules(name: str, data: dict[str, Any], text: str) -> tuple[Rule, ...]:
    tables = data.get("segments")
    if tables is None:
        return default_rules()
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{name}: segments 应写成一组 [[segments]] 表")
    lines = text.splitlines()
    headers = [number for number, line in enumerate(lines, start=1) if line.strip().startswith("[[segments]]")]
    rules: list[Rule] = []
    for index, table in enumerate(tables):
        line = headers[index] if index < len(headers) else 0
        when = _when_line(lines, line, headers[index + 1] if index + 1 < len(headers) else len(lines) + 1)
        rules.append(_segment_rule(f"{name}:{line}", table, line, {r.name for r in rules},
                                   f"{name}:{when}" if when else f"{name}:{line}"))
    return tuple(rules)


def _when_line(lines: list[str], start: int, end: int) -> int:
    """The line that sets a rule's ``when``: messages about the condition point there, not at the header."""
    for number in range(start + 1, end):
        key = lines[number - 1].split("=", 1)[0].strip()
        if key == "when" and "=" in lines[number - 1]:
            return number
    return 0


def _segment_rule(place: str, table: dict[str, Any], line: int, taken: set[str], when_place: str) -> Rule:
    unknown = set(table) - _SEGMENT_KEYS
    if unknown:
        raise ConfigError(f"{place}: [[segments]] 中未知的配置项 {'、'.join(sorted(unknown))}")
    missing = [key for key in ("name", "when") if not isinstance(table.get(key), str) or not table[key].strip()]
    if missing:
        raise ConfigError(f"{place}: [[segments]] 缺少 {'、'.join(missing)}")
    segment = table["name"].strip()
    if segment in taken:
        raise ConfigError(f"{place}: 分群 {segment} 重复定义")
    try:
        condition = Condition.parse(table["when"])
    except ConditionError as exc:
        raise ConfigError(f"{when_place}: 分群 {segment}：{exc}") from None
    return Rule(segment, str(table.get("label", segment)), condition, str(table.get("strategy", "")), line)


def _whole(name: str, data: dict[str, Any], section: str, key: str, default: int) -> int:
    value = data.get(section, {}).get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{name}: [{section}] {key} 应为非负整数")
    return value


def _days(name: str, data: dict[str, Any], section: str, key: str) -> tuple[date, ...]:
    days = []
    for text in _text_list(name, data, section, key):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise ConfigError(f"{name}: [{section}] {key} 中的“{text}”不是日期，应写作 2027-01-01") from None
    return tuple(days)


def _buckets(name: str, data: dict[str, Any]) -> tuple[int, ...]:
    value = data.get("aging", {}).get("buckets", DEFAULT_BUCKET_LIMITS)
    if not isinstance(value, list | tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{name}: [aging] buckets 应为整数列表，如 [30, 90, 180, 365]")
    try:
        Buckets(tuple(value))
    except ValueError as exc:
        raise ConfigError(f"{name}: [aging] buckets：{exc}") from None
    return tuple(value)


def _kpi_month(name: str, data: dict[str, Any]) -> str:
    value = data.get("aging", {}).get("kpi_month", "due_date")
    if value not in KPI_MONTHS:
        raise ConfigError(f"{name}: [aging] kpi_month 只能是 \"due_date\"（按应缴日期所在月）"
                          f"或 \"period_start\"（按所属期间开始所在月）")
    return str(value)

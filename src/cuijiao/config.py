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
from cuijiao.ingest.fields import FIELDS, SCHEMAS
from cuijiao.money import parse_amount
from cuijiao.segments import DEFAULT_RULES, Condition, ConditionError, Rule, default_rules
from cuijiao.stages import Policy

CONFIG_NAME = "cuijiao.toml"

DEFAULT_CONFIG = """\
# cuijiao 工作区配置。以 # 开头的行是说明，不起作用。
# 按本小区的情况修改下面的值；文字两边的引号要保留。

[estate]
# 小区名称，印在信件和报表上。
name = "示例小区"

[company]
# 物业服务企业全称，与公章一致。
name = "示例物业服务有限公司"
# 印在每封信件上；没有地址和电话的信件不能发出。
address = ""
phone = ""
# 转账用的开户行和账号，填写后印在信件上。
bank = ""
account = ""

[contact]
# 业主咨询账目时联系的人或窗口。
name = "物业服务中心"
phone = ""
hours = "工作日 9:00-17:30"

[payment]
# 缴费方式，每行一种，印在每封信件上。
channels = [
  "物业服务中心前台（现金、刷卡、扫码）",
]

[lawyer]
# 律师函由受托的律师事务所出具，印律所的抬头和签名，不印物业公司的抬头。
# 填写后印在律师函上；留空时律师函留出空白，由律所填写、盖章。
firm = ""
name = ""
phone = ""

[import]
# 收费系统导出文件里的其他列名，按字段填写；内置的列名（房号、业主姓名、应收金额 …）始终有效。
# 字段可写中文名或英文名：房号 楼栋 业主姓名 联系电话 建筑面积 标签 通讯地址 收费项目
# 所属期间 应缴日期 金额 收款日期 收据号 账单号，例如：
# synonyms = { "房号" = ["户号"], "金额" = ["本期应收"] }（中文字段名要加英文双引号）
synonyms = {}
# 属于押金而非应收的收费项目：照常导入，但不参与抵扣、不计欠费。
deposit_items = ["装修押金", "装修保证金", "押金"]

[aging]
# 账龄分段：每段的逾期天数上限。
# 下面的设置分为 1-30、31-90、91-180、181-365、366-730、731-1095 和 1096 天以上。
buckets = [30, 90, 180, 365, 730, 1095]
# 收缴率中每笔应收只计入一个月："due_date" 按应缴日期所在月，
# "period_start" 按所属期间开始的月份。
kpi_month = "due_date"

[limitation]
# 列出诉讼时效在多少天内届满的欠费。
warn_days = 90
# 内置日历尚未收录的年份的法定节假日和调休上班日（按国务院办公厅通知填写），例如：
# holidays = ["2027-01-01", "2027-02-06"]  workdays = ["2027-02-14"]
holidays = []
workdays = []

[stages]
# 催缴阶梯：1 缴费提醒，2 催缴通知书，3 催缴函，4 律师函，5 诉讼材料。
# 最早一笔欠费逾期满多少天才可发出各级通知：
thresholds = [15, 30, 90, 180, 365]
# 两次通知之间至少间隔的天数，以及信件给出的缴费期限（天）。
min_interval_days = 15
deadline_days = 15
# 逾期欠费低于此金额（元）时不发通知。
minimum = "50.00"
# 需要经批准（--approve）才能发出的级别。
approval_stages = [4, 5]
# 各分群最多发到第几级（未列出的分群可到第 5 级）。
max_stage = { dispute = 2 }

[report]
# 月报图表用的中文字体：字体文件路径或字体名称；留空则用本机找到的第一种中文字体。
font = ""
"""

SEGMENTS_HELP = """
# 催缴分群：按顺序逐条判断，第一条 when 条件成立的生效。条件检查该户的事实，例如：
#   oldest_days >= 365 or broken_promises >= 1      "空置" in tags or not reachable_phone
# 金额写作 1000、1,000.50、¥1,000 或 1000元 均可；符号用英文（半角）输入。
# 可用的事实：tags 标签、owner_type 业主类型、owner_group 业主群体、overdue_total 逾期欠费（元）、
#   oldest_days 最长逾期天数、months_in_arrears 欠费月数、open_dispute 有未解决争议、
#   promise_in_effect 有未到期承诺、broken_promises 违约承诺次数、on_hold 暂停催缴中、
#   notices_ignored 未回应的通知数、credit 预收余额（元）、reachable_phone 有可拨打的电话。
# 查看某户为何分到某群：cuijiao segment --explain 房号
"""


def _segments_toml() -> str:
    blocks = [SEGMENTS_HELP]
    for name, label, when, strategy in DEFAULT_RULES:
        blocks.append(f"[[segments]]\nname = \"{name}\"\nlabel = \"{label}\"\nwhen = '{when}'\n"
                      f"strategy = \"{strategy}\"\n")
    return "\n".join(blocks)


DEFAULT_CONFIG += _segments_toml()


PLACEHOLDER_ESTATE = "示例小区"
PLACEHOLDER_COMPANY = "示例物业服务有限公司"


def with_estate(text: str, name: str | None) -> str:
    """The config text with [estate] name set (``cuijiao init --estate-name …``)."""
    if not name:
        return text
    return text.replace(f'name = "{PLACEHOLDER_ESTATE}"', f"name = {json.dumps(name, ensure_ascii=False)}", 1)


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
    estate_name: str = PLACEHOLDER_ESTATE  # a placeholder: letters refuse to go out under it
    company_name: str = PLACEHOLDER_COMPANY
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
    lawyer_firm: str = ""  # [lawyer]: the law firm that signs the 律师函 (blank lines when unset)
    lawyer_name: str = ""
    lawyer_phone: str = ""


_KNOWN: dict[str, set[str]] = {
    "estate": {"name"},
    "company": {"name", "address", "phone", "bank", "account"},
    "contact": {"name", "phone", "hours"},
    "payment": {"channels"},
    "import": {"synonyms", "deposit_items", "max_id_chars", "max_name_chars", "max_text_chars"},
    "aging": {"buckets", "kpi_month"},
    "limitation": {"warn_days", "holidays", "workdays"},
    "report": {"font"},
    "lawyer": {"firm", "name", "phone"},
    "stages": {"thresholds", "min_interval_days", "deadline_days", "minimum", "approval_stages", "max_stage"},
}


def load_settings(path: Path) -> Settings:
    """Read and check ``cuijiao.toml``; a missing file gives the defaults."""
    if not path.exists():
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: 不是 UTF-8 编码的文本文件") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_error(path.name, str(exc), text)) from exc
    _check_keys(path.name, data)
    return _settings_from(path.name, data, text)


def _toml_error(name: str, message: str, text: str) -> str:
    """``cuijiao.toml:LINE:COLUMN: …`` in Chinese, with a hint for the mistakes a Chinese keyboard makes.

    tomllib says "at end of document" for what is left open at the end: that is the last line's end.
    """
    place = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if place:
        line, column = int(place.group(1)), int(place.group(2))
        message = message[:place.start()]
    else:
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        message = re.sub(r"\s*\(at end of document\)$", "", message)
    return f"{name}:{line}:{column}: 格式错误：{_toml_words(message)}"


_HALF_WIDTH = "请检查该行的引号、括号、逗号和等号是否为英文（半角）符号"
_QUOTES = "文字要用英文（半角）双引号 \" \" 括起来，不能用中文引号 “ ”"
_KEY_QUOTES = "键名有中文或全角符号时，要用英文双引号括起来，如 \"房号\" = [\"户号\"]"

# tomllib's messages (Python 3.11–3.13), each with what a clerk should do about it.
_TOML_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"Invalid initial character for a key part", _KEY_QUOTES),
    (r"Found invalid character (.+)", "键名中有不允许的字符 {0}：" + _KEY_QUOTES),
    (r"Unterminated string", "文字缺少结尾的引号；" + _QUOTES),
    (r"Invalid value", "值无法识别：" + _QUOTES + "，数字不要带单位"),
    (r"Unclosed inline table", "花括号 { } 没有闭合：缺少 }，或各项之间缺少英文逗号"),
    (r"Unclosed array", "方括号 [ ] 没有闭合：缺少 ]，或各项之间缺少英文逗号"),
    (r"Expected '=' after a key in a key/value pair", "键名后面缺少等号 =（应写成 键 = 值）"),
    (r"Expected newline or end of document after a statement",
     "一行只能写一项设置，值的后面多了内容（" + _QUOTES + "，数字不要带单位）"),
    (r"Invalid statement", "无法识别的一行：应写成 键 = 值，或 [配置节]；" + _KEY_QUOTES),
    (r"Cannot overwrite a value", "这一项前面已经设置过，同一项只能写一次"),
    (r"Cannot declare (.+) twice", "配置节 [{0}] 写了两次，同一节只能写一次"),
    (r"Cannot mutate immutable namespace (.+)", "{0} 已经整体写成一个值（如 { … }），不能再分开添加设置"),
    (r"Cannot redefine namespace (.+)", "{0} 已经定义过，不能再次定义"),
    (r"Duplicate inline table key (.+)", "花括号 { } 中的 {0} 写了两次"),
    (r"Expected '\]' at the end of a table declaration", "配置节标题缺少右方括号 ]，应写成 [配置节]"),
    (r"Expected '\]\]' at the end of an array declaration", "标题缺少 ]]，应写成 [[segments]]"),
    (r"Expected (.+)", "此处缺少 {0}"),
    (r"Unescaped '\\' in a string", "文字中的反斜杠 \\ 要写成两个（\\\\），或改用单引号 ' ' 括起来"),
    (r"Invalid hex value|Escaped character is not a Unicode scalar value", "文字中的 \\u 转义无效"),
    (r"Illegal character '\\[nr]'", "文字缺少结尾的引号（到行末还没有结束）；" + _QUOTES),
    (r"Illegal character (.+)", "文字中有不允许的控制字符 {0}"),
    (r"Invalid date or datetime", "日期或时间无效，日期应写作 2027-01-01"),
)


def _toml_words(message: str) -> str:
    for pattern, words in _TOML_MESSAGES:
        found = re.fullmatch(pattern, message.strip())
        if found:
            return words.replace("{0}", _toml_key(found.group(1))) if found.groups() else words
    return f"{_HALF_WIDTH}（{message}）"


def _toml_key(text: str) -> str:
    """tomllib names a key as a tuple, ``('import', 'synonyms')``: a clerk wrote ``import.synonyms``."""
    parts = re.findall(r"'([^']*)'", text) if text.startswith("(") else []
    return ".".join(parts) if parts else text


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


def _synonyms(name: str, data: dict[str, Any], text: str = "") -> dict[str, tuple[str, ...]]:
    raw = data.get("import", {}).get("synonyms", {})
    place = _place_of(name, text, "synonyms")
    if not isinstance(raw, dict):
        raise ConfigError(f"{place}: [import] synonyms 应为表，如 {{ \"房号\" = [\"户号\"] }}")
    result: dict[str, tuple[str, ...]] = {}
    fields = field_keys()
    for written, headers in raw.items():
        field_name = fields.get(written.strip())  # 房号, 应收金额 … as well as unit_id
        if field_name is None:
            known = " ".join(field.label for field in FIELDS.values())
            raise ConfigError(f"{place}: [import] synonyms 中未知的字段 {written}（可用：{known}，"
                              "或导入说明中列出的任一列名）")
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            raise ConfigError(f"{place}: [import] synonyms 中 {written} 应为列表，如 \"{written}\" = [\"户号\"]")
        result[field_name] = result.get(field_name, ()) + tuple(headers)
    return result


def field_keys() -> dict[str, str]:
    """Every name a clerk may key a synonym by → the field: its English name, its label, and
    each column name cuijiao already reads for it (应收金额 and 实收金额 are the amount)."""
    keys: dict[str, str] = {}
    for schema in SCHEMAS.values():
        for field_name, words in schema.own_synonyms:
            keys.update(dict.fromkeys(words, field_name))
    for key, known in FIELDS.items():
        keys.update(dict.fromkeys(known.synonyms, key))
        keys[known.label] = keys[key] = key
    return keys


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
        header_synonyms=_synonyms(name, data, text),
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
        lawyer_firm=_text(name, data, "lawyer", "firm", ""),
        lawyer_name=_text(name, data, "lawyer", "name", ""),
        lawyer_phone=_text(name, data, "lawyer", "phone", ""),
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

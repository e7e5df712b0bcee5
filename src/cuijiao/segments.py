"""Collection segments: ordered rules a clerk can read, edit and ask "why". Pure.

Each rule has a name, a Chinese label, a strategy and a condition over the
unit's facts, written as a small expression::

    oldest_days >= 365 or notices_ignored >= 2 or broken_promises >= 1
    open_dispute or "投诉中" in tags

The first rule that matches wins. Conditions are parsed once, checked against
the known facts (an unknown name is a configuration error naming its line),
and evaluated by a small interpreter, never by ``eval``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cuijiao.aging import UnitPosition
from cuijiao.money import parse_amount, to_decimal
from cuijiao.outcomes import Standing

OWNER_GROUPS = ("公职人员", "媒体", "专家学者", "拆迁户")
_COMPANY = re.compile(r"(公司|集团|中心|银行|学校|医院|事务所|合作社)$")

# name → (Chinese description, example value): what a rule may test.
FACTS: dict[str, tuple[str, object]] = {
    "tags": ("业主标签（列表），如 \"空置\" in tags", ["空置"]),
    "owner_type": ("业主类型：individual 个人、company 单位、developer 开发商", "individual"),
    "owner_group": ("业主群体标签（公职人员、媒体、专家学者、拆迁户），无则为空", ""),
    "overdue_total": ("逾期欠费合计（元）", Decimal("0")),
    "oldest_days": ("最早一笔逾期欠费的逾期天数", 0),
    "months_in_arrears": ("有逾期欠费的月份数", 0),
    "open_dispute": ("有未解决的争议", False),
    "promise_in_effect": ("有未到期、未兑现的缴费承诺", False),
    "broken_promises": ("已违约的缴费承诺次数", 0),
    "on_hold": ("处于暂停催缴期", False),
    "notices_ignored": ("已过缴费期限仍未回应的催缴通知数", 0),
    "credit": ("预收余额（元）", Decimal("0")),
    "reachable_phone": ("有可拨打的联系电话", True),
}


@dataclass(frozen=True)
class Owner:
    unit_id: str
    owner_name: str
    phone: str
    tags: tuple[str, ...]


def owner_type(owner: Owner) -> str:
    if "开发商" in owner.tags:
        return "developer"
    return "company" if _COMPANY.search(owner.owner_name.strip()) else "individual"


def facts(owner: Owner, unit: UnitPosition, standing: Standing, notices_ignored: int = 0) -> dict[str, Any]:
    """The facts a rule can test, for one unit as of its position's date."""
    oldest = (unit.as_of - unit.oldest_due).days if unit.oldest_due else 0
    overdue_months = {(c.due_date.year, c.due_date.month) for c in unit.charges
                      if unit.allocation.owed[c.id] > 0 and c.due_date < unit.as_of}
    return facts_of(owner, overdue_fen=unit.overdue_fen, oldest_days=oldest, months_in_arrears=len(overdue_months),
                    credit_fen=unit.credit_fen, standing=standing, notices_ignored=notices_ignored)


def facts_of(owner: Owner, *, overdue_fen: int, oldest_days: int, months_in_arrears: int, credit_fen: int,
             standing: Standing, notices_ignored: int) -> dict[str, Any]:
    """The facts from their parts (the kept allocation gives the amounts without a position)."""
    return {
        "tags": list(owner.tags),
        "owner_type": owner_type(owner),
        "owner_group": next((g for g in OWNER_GROUPS if g in owner.tags), ""),
        "overdue_total": to_decimal(overdue_fen),
        "oldest_days": oldest_days,
        "months_in_arrears": months_in_arrears,
        "open_dispute": standing.open_dispute is not None,
        "promise_in_effect": standing.promise_in_effect is not None,
        "broken_promises": standing.broken_promises,
        "on_hold": standing.hold is not None,
        "notices_ignored": notices_ignored,
        "credit": to_decimal(credit_fen),
        "reachable_phone": len(re.sub(r"\D", "", owner.phone)) >= 7,
    }


# --- Conditions ----------------------------------------------------------------

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


class ConditionError(ValueError):
    """A condition that is not well formed or names an unknown fact."""


Evaluate = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Condition:
    text: str
    tree: ast.expr
    # The tree turned into nested closures once, at parse: 100,000 owners are segmented per run.
    evaluate: Evaluate = field(compare=False, repr=False, default=lambda _values: None)

    @classmethod
    def parse(cls, text: str) -> Condition:
        plain = _plain_numbers(text.strip(), text)
        _check_numbers(plain, text)
        try:
            tree = ast.parse(plain, mode="eval").body
        except SyntaxError:
            raise ConditionError(f"条件“{text}”写法有误{_full_width_hint(text)}") from None
        _check(tree, text)
        _check_kinds(tree, text)
        return cls(text, tree, _compiled(tree))

    def holds(self, values: Mapping[str, Any]) -> bool:
        return bool(self.evaluate(values))

    def __reduce__(self) -> tuple[Callable[[str], Condition], tuple[str]]:
        """Sent to a worker process as its text (closures do not pickle), compiled again there."""
        return Condition.parse, (self.text,)


# An amount as a clerk writes it: 1,000  1,000.50  ¥1,000  ￥88  1000元. Outside quoted text only.
_QUOTED_OR_AMOUNT = re.compile(
    r"""(?P<quoted>"[^"]*"|'[^']*')"""
    r"|(?<![\w.])(?P<amount>[¥￥]\s*[-\d][\d,]*(?:\.\d+)?(?:\s*元)?|\d[\d,]*(?:\.\d+)?\s*元|\d{1,3}(?:,\d{3})+(?:\.\d+)?)"
)
_FULL_WIDTH = {"＞": ">", "＜": "<", "＝": "=", "！": "!", "（": "(", "）": ")", "，": ",", "“": '"', "”": '"',
               "‘": "'", "’": "'", "　": " ", "【": "[", "】": "]", "、": ","}


def _plain_numbers(text: str, original: str) -> str:
    """Amounts written as in a ledger become plain decimals, read by the importer's own parser."""

    def plain(match: re.Match[str]) -> str:
        amount = match.group("amount")
        if amount is None:
            return match.group(0)
        try:
            fen = parse_amount(amount)
        except ValueError as exc:
            raise ConditionError(f"条件“{original}”中：{exc}") from None
        return f"{'-' if fen < 0 else ''}{to_decimal(abs(fen))}"

    return _QUOTED_OR_AMOUNT.sub(plain, text)


# A number as the importer reads one: digits, at most two decimals (1,000 and ¥88 are made plain before).
_READABLE_NUMBER = re.compile(r"\d+(\.\d{1,2})?")


def _check_numbers(plain: str, original: str) -> None:
    """Refuse a number the importer would not read: ``1000.555``, ``1e3``, ``1_000``, ``.5``, ``0x10``.

    Python would read each silently (``1e3`` is 1000), so a rule could mean what the clerk did not write.
    """
    try:
        numbers = [token.string for token in tokenize.generate_tokens(io.StringIO(plain).readline)
                   if token.type == tokenize.NUMBER]
    except (tokenize.TokenError, SyntaxError):
        return  # not well formed: ast.parse says so
    for number in numbers:
        if _READABLE_NUMBER.fullmatch(number):
            continue
        if re.fullmatch(r"\d+\.\d{3,}", number):
            raise ConditionError(f"条件“{original}”中：数字“{number}”超过两位小数（金额最多到分，如 1000.50）")
        raise ConditionError(f"条件“{original}”中：数字“{number}”无法识别，应写作 1000、1,000 或 1000.50"
                             "（不能用科学计数法、下划线或十六进制）")


def _full_width_hint(text: str) -> str:
    found = [char for char in dict.fromkeys(text) if char in _FULL_WIDTH]
    if not found:
        return ""
    swaps = "，".join(f"“{char}”改为“{_FULL_WIDTH[char]}”" for char in found)
    return f"。其中有中文输入法的全角符号，请切换到英文（半角）输入：{swaps}"


def _check(node: ast.AST, text: str, *, top: bool = True) -> None:
    if top and isinstance(node, ast.Tuple):
        raise ConditionError(f"条件“{text}”中有多余的逗号：条件之间请用 and 或 or 连接；"
                             "金额的千位分隔写作 1,000 或 1,000.50")
    if isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(right, ast.Tuple | ast.List) and not isinstance(op, ast.In | ast.NotIn):
                raise ConditionError(f"条件“{text}”中有多余的逗号：金额的千位分隔写作 1,000 或 1,000.50")
    if isinstance(node, ast.Name):
        if node.id not in FACTS and node.id not in ("true", "false"):
            known = "、".join(FACTS)
            raise ConditionError(f"条件“{text}”中有未知的事实 {node.id}（可用：{known}）")
        return
    allowed = (ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Constant, ast.List,
               ast.Tuple, ast.Load, ast.USub, *_COMPARE)
    if not isinstance(node, allowed):
        raise ConditionError(f"条件“{text}”中不能使用 {ast.unparse(node) if isinstance(node, ast.expr) else ''}")
    for child in ast.iter_child_nodes(node):
        _check(child, text, top=isinstance(node, ast.BoolOp | ast.UnaryOp) and top)


_KIND_NAMES = {"number": "数值", "text": "文字", "bool": "是/否", "list": "列表"}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _kind(node: ast.AST) -> str | None:
    """What a checked node evaluates to: number, text, bool or list (None: cannot tell)."""
    if isinstance(node, ast.List | ast.Tuple):
        return "list"
    if isinstance(node, ast.BoolOp | ast.Compare) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
        return "bool"
    if isinstance(node, ast.UnaryOp):
        return "number"
    example: object = None
    if isinstance(node, ast.Name):
        example = True if node.id in ("true", "false") else FACTS[node.id][1]
    elif isinstance(node, ast.Constant):
        example = node.value
    if isinstance(example, bool):
        return "bool"
    if isinstance(example, int | float | Decimal):
        return "number"
    return "text" if isinstance(example, str) else "list" if isinstance(example, list) else None


def _check_kinds(node: ast.AST, text: str) -> None:
    """A comparison between things of different kinds is never true, or fails on every owner: refuse it."""
    for compare in (n for n in ast.walk(node) if isinstance(n, ast.Compare)):
        operands = [compare.left, *compare.comparators]
        for left, op, right in zip(operands, compare.ops, operands[1:], strict=False):
            left_kind, right_kind = _kind(left), _kind(right)
            if left_kind is None or right_kind is None:
                continue
            kinds = left_kind, right_kind
            pair = f"{ast.unparse(left)} 与 {ast.unparse(right)}"
            if isinstance(op, _ORDERING) and kinds != ("number", "number"):
                raise ConditionError(f"条件“{text}”中 {pair} 不能比较大小：大小只用于数值"
                                     f"（这里是{_KIND_NAMES[left_kind]}和{_KIND_NAMES[right_kind]}）")
            if isinstance(op, ast.Eq | ast.NotEq) and kinds[0] != kinds[1]:
                raise ConditionError(f"条件“{text}”中 {pair} 类型不同（{_KIND_NAMES[left_kind]}和"
                                     f"{_KIND_NAMES[right_kind]}），永远不会相等")
            if isinstance(op, ast.In | ast.NotIn) and not (
                    kinds[1] == "list" or kinds == ("text", "text")):
                raise ConditionError(f"条件“{text}”中 {ast.unparse(left)} in {ast.unparse(right)}："
                                     "in 的右边应为列表（如 tags）或文字")


def _compiled(node: ast.expr) -> Evaluate:
    """What evaluating ``node`` against the facts gives, as a function (the checked grammar only)."""
    return _COMPILE[type(node)](node)


def _name(node: Any) -> Evaluate:
    if node.id in ("true", "false"):
        constant = node.id == "true"
        return lambda _values: constant
    key = node.id
    return lambda values: values.get(key)


def _constant(node: Any) -> Evaluate:
    value = node.value  # numbers compare with the facts' Decimal amounts exactly
    constant = Decimal(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else value
    return lambda _values: constant


def _sequence(node: Any) -> Evaluate:
    items = [_compiled(item) for item in node.elts]
    return lambda values: [item(values) for item in items]


def _unary(node: Any) -> Evaluate:
    operand = _compiled(node.operand)
    if isinstance(node.op, ast.Not):
        return lambda values: not operand(values)
    return lambda values: -operand(values)


def _boolean(node: Any) -> Evaluate:
    parts = [_compiled(item) for item in node.values]
    if isinstance(node.op, ast.And):
        return lambda values: all(part(values) for part in parts)
    return lambda values: any(part(values) for part in parts)


def _compare(node: Any) -> Evaluate:
    first = _compiled(node.left)
    steps = [(_COMPARE[type(op)], _compiled(right)) for op, right in zip(node.ops, node.comparators, strict=True)]

    def compare(values: Mapping[str, Any]) -> bool:
        left = first(values)
        for holds, right_of in steps:
            right = right_of(values)
            if not holds(left, right):
                return False
            left = right
        return True

    return compare


_COMPILE: dict[type[ast.AST], Callable[[Any], Evaluate]] = {
    ast.Name: _name, ast.Constant: _constant, ast.List: _sequence, ast.Tuple: _sequence,
    ast.UnaryOp: _unary, ast.BoolOp: _boolean, ast.Compare: _compare,
}


# --- Rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    when: Condition
    strategy: str
    line: int = 0  # where cuijiao.toml defines it, for messages


@dataclass(frozen=True)
class Verdict:
    rule: Rule | None
    tried: tuple[tuple[Rule, bool], ...]  # each rule up to and including the match

    @property
    def segment(self) -> str:
        return self.rule.name if self.rule else UNMATCHED


UNMATCHED = "unmatched"  # the segment of an owner no rule matched (a stable key, as --json prints it)
UNMATCHED_LABEL = "未归类"


def segment_labels(rules: Sequence[Rule]) -> dict[str, str]:
    """Segment key → the label a clerk reads, the unmatched owners' included."""
    return {UNMATCHED: UNMATCHED_LABEL} | {rule.name: rule.label for rule in rules}


def classify(rules: Sequence[Rule], values: Mapping[str, Any]) -> Verdict:
    """The first rule whose condition holds, and every rule tried to get there."""
    tried = []
    for rule in rules:
        matched = rule.when.holds(values)
        tried.append((rule, matched))
        if matched:
            return Verdict(rule, tuple(tried))
    return Verdict(None, tuple(tried))


DEFAULT_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("dispute", "服务争议", 'open_dispute or "投诉中" in tags',
     "先处理投诉、记录整改，再催缴；语气缓和；争议未解决前不发律师函"),
    ("developer", "开发商", 'owner_type == "developer"', "向开发商出具欠费对账单，按单位往来处理"),
    ("absentee", "空置/外地", '"空置" in tags or not reachable_phone', "以 EMS 向通讯地址寄送书面催缴，保留邮寄凭证"),
    ("tenant", "出租", '"出租" in tags', "联系实际居住人，书面通知送达业主（业主承担连带责任）"),
    ("hardship", "经济困难", '"困难" in tags', "提供分期缴费方案，免收滞纳金，签署还款承诺"),
    ("chronic", "长期拒缴", "oldest_days >= 365 or notices_ignored >= 2 or broken_promises >= 1",
     "走法律途径：律师函、支付令或起诉，准备证据"),
    ("reminder", "提醒", "overdue_total > 0", "友好提醒，告知缴费方式"),
)


def default_rules() -> tuple[Rule, ...]:
    return tuple(Rule(name, label, Condition.parse(when), strategy) for name, label, when, strategy in DEFAULT_RULES)

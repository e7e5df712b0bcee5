"""``templates check``: what makes a template unusable or unlawful, named by template, paragraph and phrase.

A template fails on Jinja that does not parse, on a name the letter context
does not have (found by rendering it against the example context with
``StrictUndefined``), and on threats the law forbids or courts punish: cutting
water, power, heat, gas, lift or door access (Civil Code art. 944 para 3),
publishing or posting debtors' names (PIPL art. 25), blacklists and credit
reports (only after defiance of a judgment), late fees above what contracts
allow, and — in the conciliatory dispute letter — any escalation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cuijiao.documents.context import example_context
from cuijiao.documents.tags import paragraph_texts
from cuijiao.documents.templates import (
    Source,
    Template,
    TemplateProblem,
    bounded_render,
    load,
    render_error,
    sources,
    template_line,
)

# (pattern, why it is forbidden)
FORBIDDEN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"停水|停电|停暖|停气|断水|断电|断暖|断气|停止供(水|电|暖|热|气)|限制供(水|电|暖|热|气)|"
                r"停止(热|燃)气|拉闸|关闭?水阀"),
     "以停止供水、供电、供热、供燃气催缴为法律所禁止（民法典第九百四十四条第三款）"),
    (re.compile(r"停梯|停用电梯|停运电梯|限制(使用)?电梯|电梯卡|门禁|锁门|禁止(进入|出入)|限制(出入|进出|停车)"),
     "以停用电梯、门禁、限制出入催缴为地方法规所禁止"),
    (re.compile(r"公示|曝光|张贴|公布(姓名|名单)|通报|上墙|挂网|业主群公布|公告栏"),
     "公开欠费业主信息侵害个人信息权益（个人信息保护法第二十五条）"),
    (re.compile(r"黑名单|征信|失信|信用记录|限制消费|限高"),
     "黑名单、征信、限制消费只能在业主拒不履行生效判决后由法院决定"),
    (re.compile(r"(滞纳金|违约金)[^。；]*?(复利|利滚利)|(复利|利滚利)"),
     "违约金不得复利计算"),
)
_SENTENCE = re.compile(r"[^。；;\n]+")
_LATE_FEE = re.compile(r"滞纳金|违约金")
_DAILY = re.compile(r"每日|每天|按日|日")
_CN_DIGITS = "零〇一二两三四五六七八九点十"
# A rate in figures (0.5%, 5‰) or in words (千分之五, 万分之五, 百分之零点五).
_RATE = re.compile(rf"(\d+(?:\.\d+)?)\s*(%|％|‰)|(百分之|千分之|万分之)([\d.{_CN_DIGITS}]+)")
_PER_PERCENT = {"%": Decimal(1), "％": Decimal(1), "‰": Decimal("0.1"), "百分之": Decimal(1),
                "千分之": Decimal("0.1"), "万分之": Decimal("0.01")}
MAX_DAILY_PERCENT = Decimal("0.3")  # contracts commonly allow 0.3% a day; courts cut what is excessive (art. 585)
_ESCALATION = re.compile(r"诉讼|起诉|律师|支付令|仲裁|法院|强制")


@dataclass(frozen=True)
class Finding:
    template: str
    part: str
    paragraph: int  # 0: the whole template
    phrase: str
    message: str

    def __str__(self) -> str:
        if not self.part and self.message.startswith(f"模板 {self.template}（"):
            return self.message  # a template that does not load names its own part and paragraph
        where = f"第 {self.paragraph} 段" if self.paragraph else ""
        phrase = f"“{self.phrase}”" if self.phrase else ""
        return f"模板 {self.template}（{self.part}）{where}{phrase}：{self.message}"


def _late_fee_too_high(text: str) -> str | None:
    """The first sentence naming a daily late fee at a rate above the usual cap."""
    for sentence in _SENTENCE.findall(text):
        if not (_LATE_FEE.search(sentence) and _DAILY.search(sentence)):
            continue
        for match in _RATE.finditer(sentence):
            figures, sign, words_unit, words = match.groups()
            rate = _number(figures) if figures else _chinese_number(words)
            if rate is not None and rate * _PER_PERCENT[sign or words_unit] > MAX_DAILY_PERCENT:
                return str(sentence).strip()[:40]
    return None


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _chinese_number(text: str) -> Decimal | None:
    """五 → 5, 十五 → 15, 二十 → 20, 零点五 → 0.5 (figures pass through); None when unreadable."""
    whole, _, fraction = text.replace(".", "点").partition("点")
    digits = {c: str(k) for k, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "两": "2"}
    digits |= {str(k): str(k) for k in range(10)}
    if "十" in whole:
        tens, _, ones = whole.partition("十")
        whole = str(int(digits.get(tens, "1") if tens else "1") * 10 + int(digits.get(ones, "0") if ones else "0"))
    try:
        return Decimal("".join(digits[c] for c in whole) + ("." + "".join(digits[c] for c in fraction)
                                                           if fraction else ""))
    except (KeyError, InvalidOperation):
        return None


def text_findings(name: str, part: str, xml: str) -> list[Finding]:
    found = []
    for index, text in enumerate(paragraph_texts(xml), start=1):
        for pattern, why in FORBIDDEN:
            for phrase in dict.fromkeys(m.group(0) for m in pattern.finditer(text)):
                found.append(Finding(name, part, index, phrase, why))
        fee = _late_fee_too_high(text)
        if fee:
            found.append(Finding(name, part, index, fee, f"违约金超过每日 {MAX_DAILY_PERCENT}%，超出合同通常约定，"
                                                         "法院可依民法典第五百八十五条调减"))
        if name == "dispute":
            match = _ESCALATION.search(text)
            if match:
                found.append(Finding(name, part, index, match.group(0), "争议户沟通函不得有升级催缴的措辞"))
    return found


def _paragraph_of(template: Template, part: str, needle: str) -> tuple[int, str]:
    for index, text in enumerate(paragraph_texts(template.raw_xml[part]), start=1):
        if needle in text:
            return index, text[:40]
    return 0, ""


def render_findings(template: Template) -> list[Finding]:
    """Render each part against the example context: an unknown name fails here, with its paragraph."""
    context = example_context()
    found = []
    for part, compiled in template.compiled().items():
        try:
            bounded_render(compiled, context)
        except Exception as exc:  # a clerk's template: any failure is a finding
            needle, message = render_error(exc)
            # The name's own paragraph first: Jinja's traceback line is where its output block began.
            paragraph = _paragraph_of(template, part, needle)[0] if needle else 0
            paragraph = paragraph or max(template_line(exc) - 1, 0)
            found.append(Finding(template.name, part, paragraph, needle, message))
    return found


def check(source: Source) -> list[Finding]:
    """Every problem of one template (an empty list: it may be used)."""
    try:
        template = load(source.name, source.data, source.origin)
    except TemplateProblem as exc:
        return [Finding(source.name, "", 0, "", str(exc))]
    found = []
    for part, xml in template.raw_xml.items():
        found.extend(text_findings(source.name, part, xml))
    return found + render_findings(template)


SHIPPED = "内置"  # Source.origin of a shipped template (checked by its own tests)


def workspace_findings(root: Path | None) -> list[Finding]:
    """The findings of a workspace's own templates (the shipped ones are checked by the tests)."""
    return [finding for source in sources(root) if source.origin != SHIPPED for finding in check(source)]


def refuse_failing_templates(root: Path | None, consequence: str = "未发出、未重新生成任何通知") -> None:
    """Raise :class:`TemplateProblem` (exit 2) listing every problem when a workspace template fails the check."""
    findings = workspace_findings(root)
    if findings:
        raise TemplateProblem("\n".join([f"模板未通过检查（cuijiao templates check），{consequence}：",
                                         *(f"  {finding}" for finding in findings)]))

"""Letter templates: the shipped ones, a workspace's overrides, loaded and compiled once.

The shipped .docx files live in the top-level ``templates/notices/`` and are
installed as the package ``cuijiao.notice_templates``; a workspace's
``templates/notices/<name>.docx`` replaces the shipped file of the same name.
Templates are rendered by a sandboxed Jinja environment (clerks edit them):
values are XML-escaped and a name the context lacks is an error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
import jinja2.exceptions
import jinja2.runtime
from jinja2.sandbox import SandboxedEnvironment

from cuijiao.documents.docxzip import (
    Member,
    NotADocx,
    Package,
    Segment,
    deflated,
    joined_member,
    member_bytes,
    member_text,
    read_members,
    segment,
)
from cuijiao.documents.tags import has_tags, prepare
from cuijiao.errors import BadInput
from cuijiao.stages import Purpose

SHIPPED_PACKAGE = "cuijiao.notice_templates"
WORKSPACE_DIR = Path("templates") / "notices"
# Parts that may carry tags; anything else (styles, images, fonts) is copied as is.
_TEXT_PARTS = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
_INVALID_XML_CHARS = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
# The same characters, looked for before translating: a value rarely holds one, and translate looks each
# character up in the table (0.7 µs against 0.1 for a value of 17 characters; a letter prints hundreds).
_HAS_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# name → (Chinese title, what it is for)
TEMPLATES: dict[str, tuple[str, str]] = {
    "stage1_reminder": ("缴费提醒", "第 1 级：友好提醒，告知欠费与缴费方式"),
    "stage2_notice": ("催缴通知书", "第 2 级：书面催缴，给出缴费期限，当面送达签收"),
    "stage3_demand": ("催缴函", "第 3 级：正式催缴函，EMS 寄送"),
    "stage4_lawyer": ("律师函", "第 4 级：律师函，由律师签署（须批准）"),
    "stage5_litigation": ("诉讼材料", "第 5 级：欠费明细表、通知与送达记录、证据清单（须批准）"),
    "limitation_demand": ("时效催告函", "诉讼时效即将届满的欠费的书面催告"),
    "dispute": ("沟通函", "争议户：说明投诉处理、邀请面谈，不升级"),
    "hardship": ("分期缴费方案函", "经济困难户：分期缴费方案"),
    "developer": ("欠费对账单", "开发商：名下全部房屋的欠费对账单"),
    "absentee": ("催缴函（邮寄）", "空置/外地户：寄往通讯地址"),
    "tenant": ("催缴通知书（出租房屋）", "出租户：致业主（业主承担连带缴费责任）"),
}
VARIANTS = ("dispute", "hardship", "developer", "absentee", "tenant")
_STAGE_TEMPLATES = {1: "stage1_reminder", 2: "stage2_notice", 3: "stage3_demand", 4: "stage4_lawyer",
                    5: "stage5_litigation"}


def template_name(stage: int, purpose: Purpose, segment: str) -> str:
    """Which template a notice is written with: the limitation demand, the legal stages, a segment's variant."""
    if purpose is Purpose.LIMITATION:
        return "limitation_demand"
    if stage >= 4 or segment not in VARIANTS:
        return _STAGE_TEMPLATES[stage]
    return segment


def _clean(value: Any) -> Any:
    """Text that XML can hold: control characters a ledger may carry are dropped. Every printed value
    passes here, inside the template's frame: a render printing too much stops here, at its line."""
    if isinstance(value, str):
        spent = _SPENT.get()
        if spent is not None:
            spent[1] += len(value)
            if spent[1] > MAX_OUTPUT:
                raise TooBig(_TOO_LONG)
        return value.translate(_INVALID_XML_CHARS) if _HAS_INVALID_XML.search(value) else value
    return value


MAX_RANGE = 10_000  # a letter never loops more; a clerk's typo must not render for hours
MAX_POWER = 64  # ``**`` with a larger exponent is refused (``10**10**10`` would never finish)
MAX_REPEAT = 100_000  # ``"x" * n`` and ``[…] * n`` longer than this is refused


class TooBig(OverflowError):
    """A template asked for a loop, number or text too large for a letter (message in Chinese)."""


MAX_OUTPUT = 8 * 2**20  # characters of XML one part of one letter may render to (a long letter: ~0.3 MiB)
_TOO_LONG = f"一份信件最多 {MAX_OUTPUT // 2**20} MiB 文字，模板生成的超过了（循环过大？）"
# The render under way: [what its range() calls handed out, characters it printed]. Nested loops are
# bounded together, not each on its own.
_SPENT: ContextVar[list[int] | None] = ContextVar("render_spent", default=None)


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    spent = _SPENT.get()
    total = len(numbers) + (spent[0] if spent else 0)
    if total > MAX_RANGE:
        raise TooBig(f"range() 合计最多 {MAX_RANGE} 次（嵌套的循环一起计算），模板要求 {total} 次")
    if spent is not None:
        spent[0] = total
    return numbers


def bounded_render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render with every range() of this render counted together and the output capped at MAX_OUTPUT."""
    token = _SPENT.set([0, 0])
    try:
        parts, size = [], 0
        for chunk in template.generate(context):  # the template's own text, repeated by a loop, counts too
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TooBig(_TOO_LONG)
            parts.append(chunk)
        return "".join(parts)
    finally:
        _SPENT.reset(token)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with loops, powers and repeated text bounded at render time."""

    intercepted_binops = frozenset({"**", "*"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``{{ a.b }}`` on a plain dict: its key, straight away. Jinja tries the attribute first, and for a
        name that is not one of dict's own (``items``, ``get``…) that fails with an AttributeError before it
        takes the key; a letter's context is dicts, and those exceptions were a fifth of rendering it."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_POWER:
            raise TooBig(f"乘方指数最多 {MAX_POWER}，模板要求 {right}")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                    raise TooBig(f"重复后的文字最多 {MAX_REPEAT} 个，模板要求 {len(seq) * count} 个")
        return super().call_binop(context, operator, left, right)


def environment() -> SandboxedEnvironment:
    env = _Sandbox(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_clean, keep_trailing_newline=True)
    env.globals["range"] = _bounded_range
    return env


class TemplateProblem(BadInput):
    """A template that cannot be used: not a .docx, or its Jinja does not parse, or it fails to render."""


def template_line(exc: BaseException) -> int:
    """The template line Jinja was rendering when it raised (its traceback names ``<template>``)."""
    line, frame = 1, exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == "<template>":
            line = frame.tb_lineno
        frame = frame.tb_next
    return line


def render_error(exc: Exception) -> tuple[str, str]:
    """(the name or phrase at fault, a Chinese message) for an error raised while rendering a template."""
    if isinstance(exc, jinja2.UndefinedError):
        names = re.findall(r"'([^']+)'", str(exc))
        needle = names[-1] if names else ""
        return needle, f"信件中没有变量“{needle}”（可能拼错）；可用变量见 templates/notices/README.md"
    if isinstance(exc, TooBig):
        return "", f"模板要求的循环或数值过大：{exc}"
    if isinstance(exc, OverflowError | MemoryError | RecursionError):
        return "", "模板要求的循环或数值过大，无法生成信件"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return "", "模板使用了不允许的操作（只能使用 README.md 中列出的变量和过滤器）"
    if isinstance(exc, ZeroDivisionError):
        return "", "模板中有除以零的计算"
    return "", f"模板无法渲染（{type(exc).__name__}）：请检查变量、过滤器和计算的写法"


DOCUMENT = "word/document.xml"


def body_split(document: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``word/document.xml`` cut where a letter joins the print file: up to ``<w:body>``, the body's content,
    and its last section's properties with the closing; None without a ``<w:body>`` or ``<w:sectPr``."""
    opening, closing = document.find(b"<w:body"), document.rfind(b"</w:body>")
    if opening < 0 or closing < 0:
        return None
    start = document.index(b">", opening) + 1
    section = body_section(document, start, closing)
    if section < 0:
        return None
    return document[:start], document[start:section], document[section:]


def body_section(document: bytes, start: int, closing: int) -> int:
    """Where the body's own section properties start (its last ``<w:sectPr>`` between ``start`` and
    ``closing``, ``</w:body>``), or -1. Not ``<w:sectPrChange>``, and not the earlier ``<w:sectPr>`` a tracked
    change of the page setup keeps inside it."""
    end = closing
    while (found := document.rfind(b"<w:sectPr", start, end)) >= 0:
        if document[found + 9:found + 10] not in (b">", b"/", b" ", b"\t", b"\r", b"\n"):
            end = found  # <w:sectPrChange …>
            continue
        change = document.rfind(b"<w:sectPrChange", start, found)
        if change >= 0 and document.find(b"</w:sectPrChange>", change, closing) > found:
            end = change  # the setup before a tracked change: inside the body's own section properties
            continue
        return found
    return -1


class RenderedParts(NamedTuple):
    data: bytes  # the letter's .docx
    texts: dict[str, bytes]  # each rendered part's XML
    body: Segment | None  # word/document.xml's body content (see body_split), deflated as a print-file segment


@dataclass
class Template:
    name: str
    origin: str  # "内置" or the override's path
    sha256: str
    sources: dict[str, str]  # part name → prepared Jinja source
    raw_xml: dict[str, str]  # part name → the XML as saved, for naming paragraphs
    static: list[Member]
    _compiled: dict[str, jinja2.Template] = field(default_factory=dict, repr=False)
    _package: Package | None = field(default=None, repr=False)
    _static_parts: dict[str, bytes] = field(default_factory=dict, repr=False)
    _static_names: frozenset[str] | None = field(default=None, repr=False)

    def compiled(self) -> dict[str, jinja2.Template]:
        if not self._compiled:
            env = environment()
            for part, source in self.sources.items():
                try:
                    self._compiled[part] = env.from_string(source)
                except jinja2.TemplateSyntaxError as exc:
                    raise TemplateProblem(syntax_message(self, part, exc)) from None
        return self._compiled

    def render(self, context: Mapping[str, Any], level: int = 1) -> bytes:
        """The letter's .docx bytes (deflate level 1: ~3× faster than 6 for ~10% more bytes; the same
        level always, so a reprint gives the same bytes)."""
        return self.render_parts(context, level).data

    def render_parts(self, context: Mapping[str, Any], level: int = 1) -> RenderedParts:
        """The letter's .docx bytes, each rendered part's XML and its body's deflated segment (what the print
        file takes from it)."""
        if self._package is None:
            self._package = Package(self.static)
        rendered, texts, body = [], {}, None
        for part, template in self.compiled().items():
            try:
                text = bounded_render(template, context)
            except Exception as exc:  # a clerk's template: a message, never a traceback
                raise TemplateProblem(render_message(self, part, exc)) from None
            texts[part] = text.encode("utf-8")
            if part == DOCUMENT and (split := body_split(texts[part])) is not None:
                # Its body deflated once, as a segment the print file takes as it is.
                head, content, rest = split
                body = segment(content, level)
                rendered.append(joined_member(part, (segment(head, level), body), rest, level))
            else:
                rendered.append(deflated(part, texts[part], level))
        return RenderedParts(self._package.build(rendered), texts, body)

    def static_names(self) -> frozenset[str]:
        """The names of the members every letter of this template holds as the template does."""
        if self._static_names is None:
            self._static_names = frozenset(member.name for member in self.static)
        return self._static_names

    def static_part(self, name: str) -> bytes:
        """An untagged member's content, as every letter of this template holds it (inflated once)."""
        if not self._static_parts:
            self._static_parts.update((m.name, member_bytes(m)) for m in self.static)
        return self._static_parts[name]


def render_message(template: Template, part: str, exc: Exception) -> str:
    from cuijiao.documents.tags import paragraph_texts  # noqa: PLC0415 - only for messages

    _, message = render_error(exc)
    paragraph = max(template_line(exc) - 1, 0)
    texts = paragraph_texts(template.raw_xml.get(part, ""))
    excerpt = f"“{texts[paragraph - 1][:40]}”" if 0 < paragraph <= len(texts) else ""
    where = f"第 {paragraph} 段{excerpt}" if paragraph else ""
    return f"模板 {template.name}（{part}）{where}：{message}"


def syntax_message(template: Template, part: str, exc: jinja2.TemplateSyntaxError) -> str:
    from cuijiao.documents.tags import paragraph_texts  # noqa: PLC0415 - only for messages

    line = exc.lineno or 1
    if "end of template" in (exc.message or ""):  # Jinja stops at the end: name the block left open instead
        line = _unclosed_block_line(template.sources[part]) or line
    paragraph = max(line - 1, 1)
    texts = paragraph_texts(template.raw_xml.get(part, ""))
    excerpt = texts[paragraph - 1][:40] if paragraph - 1 < len(texts) else ""
    problem = syntax_in_chinese(exc.message)
    return f"模板 {template.name}（{part}）第 {paragraph} 段“{excerpt}”：Jinja 语法错误：{problem}"


_SYNTAX_TEXTS = (
    (re.compile(r"Expected an expression, got '(.*)'"), "标签里缺少变量或表达式（如 {{% if %}} 没写条件）"),
    (re.compile(r"[Uu]nexpected end of template.*?innermost block that needs to be closed is '(\w+)'", re.S),
     "{{% {0} %}} 没有对应的结束标签（{{% end{0} %}}）"),
    (re.compile(r"[Uu]nexpected end of template"), "模板在标签闭合之前结束了（少了 }}}} 或 %}}？）"),
    (re.compile(r"Encountered unknown tag '(\w+)'", re.S), "未知或不配对的标签“{0}”（多了一个结束标签，或拼错？）"),
    (re.compile(r"unexpected char '(.)'"), "无法识别的字符“{0}”（中文输入法的全角符号？标签里请用半角）"),
    (re.compile(r"expected token '(.*?)', got '(.*?)'"), "此处应为“{0}”，却是“{1}”"),
    (re.compile(r"unexpected '(.*?)'"), "多余或不配对的“{0}”"),
)


_BLOCKS = frozenset({"if", "for", "with", "filter", "macro", "call", "block", "raw", "autoescape"})


def _unclosed_block_line(source: str) -> int:
    """The line of the innermost block tag never closed (0 when the lexer cannot tell)."""
    opened: list[tuple[str, int]] = []
    after_begin = False
    try:
        for line, kind, value in environment().lex(source):
            if kind == "whitespace":
                continue
            if after_begin and kind == "name":
                if value in _BLOCKS:
                    opened.append((value, line))
                elif value.startswith("end") and opened and opened[-1][0] == value[3:]:
                    opened.pop()
            after_begin = kind == "block_begin"
    except jinja2.TemplateSyntaxError:
        return 0
    return opened[-1][1] if opened else 0


_TOKEN_NAMES = {"end of print statement": "}}", "end of statement block": "%}", "name": "变量名",
                "end of template": "模板结尾"}


def syntax_in_chinese(message: str | None) -> str:
    """Jinja's English parse error → what a clerk can act on; an unknown one keeps Jinja's words after it."""
    text = message or ""
    for pattern, chinese in _SYNTAX_TEXTS:
        match = pattern.search(text)
        if match:
            return chinese.format(*(_TOKEN_NAMES.get(group, group) for group in match.groups()))
    return f"无法解析（{text}）"


def load(name: str, data: bytes, origin: str) -> Template:
    try:
        members = read_members(data, origin)
    except NotADocx as exc:
        raise TemplateProblem(str(exc)) from None
    sources, raw, static = {}, {}, []
    for member in members:
        if _TEXT_PARTS.match(member.name):
            xml = raw[member.name] = member_text(member)
            if has_tags(xml):
                sources[member.name] = prepare(xml)
                continue
        static.append(member)
    template = Template(name, origin, hashlib.sha256(data).hexdigest(), sources, raw, static)
    template.compiled()  # a template whose Jinja does not parse is refused when loaded
    return template


def shipped_files() -> dict[str, bytes]:
    folder = resources.files(SHIPPED_PACKAGE)
    return {entry.name.removesuffix(".docx"): entry.read_bytes()
            for entry in folder.iterdir() if entry.name.endswith(".docx")}


def shipped_readme() -> str:
    return resources.files(SHIPPED_PACKAGE).joinpath("README.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes
    origin: str  # "内置" or the override's path


def sources(workspace_root: Path | None) -> Iterator[Source]:
    """Every template the workspace uses: the shipped ones, each replaced by an override of the same name."""
    shipped = shipped_files()
    folder = workspace_root / WORKSPACE_DIR if workspace_root is not None else None
    overrides = {p.stem: p for p in sorted(folder.glob("*.docx")) if not p.name.startswith("~$")} \
        if folder is not None and folder.is_dir() else {}
    for name in sorted(set(shipped) | set(overrides)):
        if name in overrides:
            yield Source(name, overrides[name].read_bytes(), str(overrides[name]))
        else:
            yield Source(name, shipped[name], "内置")


class Library:
    """The templates of one workspace, each loaded once when first needed."""

    def __init__(self, workspace_root: Path | None) -> None:
        self._sources = {source.name: source for source in sources(workspace_root)}
        self._loaded: dict[str, Template] = {}

    def names(self) -> list[str]:
        return sorted(self._sources)

    def get(self, name: str) -> Template:
        if name not in self._loaded:
            source = self._sources.get(name)
            if source is None:
                raise TemplateProblem(f"缺少模板 {name}.docx（内置模板被删除？可用 cuijiao templates export 取回）")
            self._loaded[name] = load(name, source.data, source.origin)
        return self._loaded[name]

    def source(self, name: str) -> Source:
        return self._sources[name]

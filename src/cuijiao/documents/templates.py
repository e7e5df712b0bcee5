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
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from cuijiao.documents.docxzip import Member, NotADocx, Package, deflated, member_text, read_members
from cuijiao.documents.tags import has_tags, prepare
from cuijiao.errors import BadInput
from cuijiao.stages import Purpose

SHIPPED_PACKAGE = "cuijiao.notice_templates"
WORKSPACE_DIR = Path("templates") / "notices"
# Parts that may carry tags; anything else (styles, images, fonts) is copied as is.
_TEXT_PARTS = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
_INVALID_XML_CHARS = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])

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
    """Text that XML can hold: control characters a ledger may carry are dropped."""
    return value.translate(_INVALID_XML_CHARS) if isinstance(value, str) else value


def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_clean,
                                keep_trailing_newline=True)


class TemplateProblem(BadInput):
    """A template that cannot be used: not a .docx, or its Jinja does not parse."""


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
        if self._package is None:
            self._package = Package(self.static)
        rendered = [deflated(part, template.render(context).encode("utf-8"), level)
                    for part, template in self.compiled().items()]
        return self._package.build(rendered)


def syntax_message(template: Template, part: str, exc: jinja2.TemplateSyntaxError) -> str:
    from cuijiao.documents.tags import paragraph_texts  # noqa: PLC0415 - only for messages

    paragraph = max((exc.lineno or 1) - 1, 1)
    texts = paragraph_texts(template.raw_xml.get(part, ""))
    excerpt = texts[paragraph - 1][:40] if paragraph - 1 < len(texts) else ""
    return f"模板 {template.name}（{part}）第 {paragraph} 段“{excerpt}”：Jinja 语法错误：{exc.message}"


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

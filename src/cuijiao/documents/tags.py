"""Jinja inside WordprocessingML, in docxtpl's tag syntax.

Word splits what a clerk typed as ``{{ owner.name }}`` over several runs when
it spell-checks or restyles part of it, and writes quotes as typographic ones.
``prepare`` mends that the way docxtpl's ``patch_xml`` does (the idea and the
patterns are docxtpl's): XML between the braces of one tag is dropped, entities
inside tags are unescaped, and the element-level tags ``{%p …%}``, ``{%tr …%}``,
``{%tc …%}`` and ``{%r …%}`` replace the whole paragraph, table row, cell or run
that holds them, so a loop repeats a row and a condition drops a paragraph.

A newline is put before every paragraph, so a Jinja line number is one more than
the paragraph it is in (numbered from 1, table cells included) — that is how
``templates check`` names the paragraph of a problem. The line breaks Word or another
tool left between elements (after the XML declaration, in pretty-printed parts) become
Jinja string literals: the letter keeps them byte for byte, the numbering stays right.
"""

from __future__ import annotations

import re

_SPLIT_BRACES = re.compile(r"(?<={)(<[^>]*>)+(?=[{%#])|(?<=[%}#])(<[^>]*>)+(?=})", re.DOTALL)
_TAG_BODY = re.compile(r"{%(?:(?!%}).)*|{#(?:(?!#}).)*|{{(?:(?!}}).)*", re.DOTALL)
_RUN_BREAK = re.compile(r"</w:t>.*?(<w:t>|<w:t [^>]*>)", re.DOTALL)
_INSIDE_TAG = re.compile(r"(?<={[{%])(.*?)(?=[}%]})", re.DOTALL)
_PRESERVE = re.compile(r"<w:t>((?:(?!<w:t>).)*)({{.*?}}|{%.*?%})", re.DOTALL)
_RUN_TAG = re.compile(r"({{r\s.*?}}|{%r\s.*?%})", re.DOTALL)
_PARAGRAPH = re.compile(r"(?=<w:p[ >])")
_BREAK_BETWEEN_TAGS = re.compile(r"(?<=>)[ \t]*\r?\n\s*(?=<)")
_ELEMENT_TAGS = {
    kind: re.compile(rf"<w:{kind}[ >](?:(?!<w:{kind}[ >]).)*({{%|{{{{){kind} ([^}}%]*(?:%}}|}}}})).*?</w:{kind}>",
                     re.DOTALL)
    for kind in ("tr", "tc", "p", "r")
}
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&#8216;", "'"), ("&#8217;", "'"),
             ("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'"), ("&amp;", "&"))
_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")


def has_tags(xml: str) -> bool:
    return "{{" in xml or "{%" in xml or "{#" in _SPLIT_BRACES.sub("", xml)


def prepare(xml: str) -> str:
    """Template XML as Word saved it → Jinja source that renders to valid XML."""
    xml = _BREAK_BETWEEN_TAGS.sub(_as_literal, xml)
    xml = _SPLIT_BRACES.sub("", xml)
    xml = _TAG_BODY.sub(lambda m: _RUN_BREAK.sub("", m.group(0)), xml)
    xml = _INSIDE_TAG.sub(lambda m: _unescape(m.group(0)), xml)
    xml = _PRESERVE.sub(r'<w:t xml:space="preserve">\1\2', xml)
    xml = _RUN_TAG.sub(r'</w:t></w:r><w:r><w:t xml:space="preserve">\1</w:t></w:r><w:r><w:t xml:space="preserve">',
                       xml)
    xml = _PARAGRAPH.sub("\n", xml)
    for pattern in _ELEMENT_TAGS.values():
        # keep the element's newlines, so later line numbers still count paragraphs
        xml = pattern.sub(lambda m: f"{m.group(1)} {m.group(2)}" + "\n" * m.group(0).count("\n"), xml)
    return xml


def _as_literal(match: re.Match[str]) -> str:
    """Whitespace holding a line break → a Jinja expression printing it, on one source line."""
    escaped = match.group(0).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return '{{ "' + escaped + '" }}'


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def paragraph_texts(xml: str) -> list[str]:
    """The visible text of each paragraph of template XML, in order (index 0 is paragraph 1)."""
    texts = []
    for chunk in _PARAGRAPH.split(xml)[1:]:
        end = chunk.find("</w:p>")
        body = chunk if end < 0 else chunk[:end]
        texts.append(_unescape_text("".join(_TEXT.findall(body))))
    return texts


def _unescape_text(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")

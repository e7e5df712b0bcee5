"""A workspace template that fails ``templates check`` is never used: issue, reprint and run refuse it."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from cuijiao.documents.templates import Library, TemplateProblem, TooBig, bounded_render, environment
from test_documents import AS_OF, build_estate, run_cli


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    return build_estate(tmp_path)

THREAT = "逾期不缴将停水停电，并在公告栏公示。"


def override(root: Path, tmp_path: Path, text: str, name: str = "stage2_notice") -> None:
    folder = tmp_path / "export"
    if not folder.exists():
        run_cli("-w", str(root), "templates", "export", str(folder))
    document = docx.Document(str(folder / f"{name}.docx"))
    document.add_paragraph(text)
    target = root / "templates" / "notices"
    target.mkdir(parents=True, exist_ok=True)
    document.save(str(target / f"{name}.docx"))


def nothing_recorded(root: Path) -> None:
    _, output = run_cli("-w", str(root), "notices", "plan", "--as-of", AS_OF)
    assert "现在可发 4 份" in output, output
    assert not list((root / "out").iterdir())


@pytest.mark.parametrize("text", [THREAT, "缴费期限：{{ deadlin }}"])
def test_issue_refuses_a_template_that_fails_the_check(estate: Path, tmp_path: Path, text: str) -> None:
    override(estate, tmp_path, text)
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 2, output
    assert "Traceback" not in output and "Error" not in output and "undefined" not in output, output
    assert "模板未通过检查" in output and "stage2_notice" in output and "段" in output, output
    assert ("停水" in output and "公示" in output) if text == THREAT else "deadlin" in output
    nothing_recorded(estate)


@pytest.mark.parametrize("text", [THREAT, "缴费期限：{{ deadlin }}"])
def test_reprint_refuses_a_template_that_fails_the_check(estate: Path, tmp_path: Path, text: str) -> None:
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output  # 2-201 has no address: a warning
    override(estate, tmp_path, text)
    reprinted = tmp_path / "reprint"
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000002", "-o", str(reprinted))
    assert code == 2 and "Traceback" not in output and "stage2_notice" in output, output
    assert not reprinted.exists() or not list(reprinted.iterdir())


def test_run_refuses_a_template_that_fails_the_check(estate: Path, tmp_path: Path) -> None:
    override(estate, tmp_path, THREAT)
    code, output = run_cli("-w", str(estate), "run", "--as-of", AS_OF)
    assert code == 2 and "停水" in output and "stage2_notice" in output, output
    nothing_recorded(estate)


def test_check_names_an_unknown_variable_in_chinese(estate: Path, tmp_path: Path) -> None:
    override(estate, tmp_path, "缴费期限：{{ deadlin }}")
    code, output = run_cli("-w", str(estate), "templates", "check")
    assert code == 1 and "deadlin" in output and "is undefined" not in output and "段" in output, output


@pytest.mark.parametrize("text", ["{% for x in range(10**9) %}x{% endfor %}", "{{ 2 ** 100000 }}",
                                  "{{ 'x' * 10**9 }}"])
def test_check_locates_a_huge_loop_without_a_traceback(estate: Path, tmp_path: Path, text: str) -> None:
    override(estate, tmp_path, text, "stage3_demand")
    code, output = run_cli("-w", str(estate), "templates", "check")
    assert code == 1, output
    assert "Traceback" not in output and "Overflow" not in output, output
    assert "模板 stage3_demand" in output and "过大" in output and "段" in output, output


def test_the_sandbox_bounds_range_at_render_time() -> None:
    with pytest.raises(TooBig):
        environment().from_string("{% for x in range(10**9) %}{% endfor %}").render()
    assert len(environment().from_string("{% for x in range(100) %}x{% endfor %}").render()) == 100


def test_a_render_error_at_render_time_is_a_chinese_message(estate: Path, tmp_path: Path) -> None:
    override(estate, tmp_path, "{{ lines[0].nothing_here }}")
    template = Library(estate).get("stage2_notice")
    with pytest.raises(TemplateProblem) as caught:
        template.render({"lines": [{}]})
    assert "模板 stage2_notice" in str(caught.value) and "信件中没有变量" in str(caught.value)


def test_characters_xml_cannot_hold_are_dropped_from_printed_values() -> None:
    """Every C0 control but tab, newline and return, and U+FFFE/U+FFFF: a letter with one does not open."""
    invalid = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]
    value = "张\t三\n" + "".join(map(chr, invalid)) + "¥1,234.56\r"
    template = environment().from_string("<w:t>{{ v }}</w:t>")
    assert bounded_render(template, {"v": value}) == "<w:t>张\t三\n¥1,234.56\r</w:t>"
    assert bounded_render(template, {"v": "翠湖花园3栋"}) == "<w:t>翠湖花园3栋</w:t>"


@pytest.mark.parametrize("expression", [
    "{{ d.name }}", "{{ d.items()|list|length }}", "{{ d.get('x') }}", "{{ d.keys()|list|join(',') }}",
    "{{ d.owner.name }}", "{% for line in d.lines %}{{ line.item }}{% endfor %}", "{{ d.missing }}",
    "{{ d.__class__ }}", "{{ d.owner.__init__ }}", "{{ d.lines.append }}"])
def test_dotted_names_on_the_context_s_dicts_resolve_as_jinja_s_own_sandbox_resolves_them(expression: str) -> None:
    """The shortcut to a dict's key gives what Jinja gives, for keys named like dict's methods too."""
    context = {"d": {"name": "张三", "items": "不是方法", "get": 5, "x": 1, "owner": {"name": "李四"},
                     "lines": [{"item": "物业费"}, {"item": "停车费"}]}}

    def rendered(env: SandboxedEnvironment) -> str:
        try:
            return env.from_string(expression).render(context)
        except Exception as exc:  # the kind of failure is what is compared
            return type(exc).__name__

    reference = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    assert rendered(environment()) == rendered(reference)

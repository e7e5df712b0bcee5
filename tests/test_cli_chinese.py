"""No English from Typer or Click reaches a clerk: help pages, usage errors and their hints."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner, Result

from cuijiao.cli import app

# Names a clerk types (commands, option values, file formats) and names of things, not English prose.
NAMES = {"cuijiao", "toml", "csv", "xlsx", "json", "table", "unit", "building", "item", "Excel", "EMS", "CSV",
         "CUIJIAO_WORKSPACE", "gb18030", "utf", "CJ2026", "segments", "out", "logs", "inbox", "templates", "rejected",
         "warn_days", "x", "Word", "docx", "sms",
         "company", "estate", "lawyer", "name", "address", "phone", "LibreOffice", "PDF", "Jinja", "README", "md"}


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = list(_commands(ROOT))
ALLOWED = NAMES | {name for path in COMMANDS for name in path}


def english(text: str) -> list[str]:
    """Latin words left once option names, metavars' values and allowed names are taken out."""
    text = re.sub(r"(?<![\w])-{1,2}[A-Za-z][\w-]*", " ", text)  # --as-of, -w
    words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", text)
    words = [w.rstrip("_") for w in words]  # a folder named as in out/reprint_<运行号>/
    return [w for w in words if w not in ALLOWED and w.lower() not in ALLOWED]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "cuijiao")
def test_every_help_page_is_chinese(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "用法：" in result.output and "显示本帮助并退出。" in result.output
    assert english(result.output) == [], result.output


@pytest.mark.parametrize(("args", "said"), [
    (["segment", "--bogus"], "错误：没有这个选项：--bogus"),
    (["segmnt"], "错误：没有这个命令：segmnt。是不是要输入：segment"),
    (["record", "promise", "--amount", "100", "--by", "2026-12-01"], "错误：缺少参数 房号"),
    (["record", "promise", "1-101", "--by", "2026-12-01"], "错误：缺少选项 --amount"),
    (["aging", "--by", "floor"], "错误：--by 的值无效：“floor”不是可选的值（可选：unit, building, item）"),
    (["limitation", "--within", "soon"], "错误：--within 的值无效：应为整数"),
    (["sample", "x", "--units", "0"], "错误：--units 的值无效：应不小于 1"),
    (["aging", "--as-of"], "错误：选项 --as-of 需要一个值"),
    (["unit", "1-101", "1-102"], "错误：多余的参数：1-102"),
    (["record"], "用法：cuijiao record [选项] 命令 [参数]..."),
])
def test_usage_errors_are_chinese_with_a_chinese_hint(args: list[str], said: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert said in result.output
    typed = result.output
    for arg in args:  # what the clerk typed may be anything
        typed = typed.replace(arg, " ")
    assert english(typed) == [], result.output
    assert "Traceback" not in result.output


def test_a_usage_error_under_json_is_an_object_on_stdout() -> None:
    result = run("--json", "segment", "--bogus")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": "没有这个选项：--bogus", "problems": []}


def test_usage_shows_the_command_and_how_to_get_help() -> None:
    result = run("segment", "--bogus")
    assert result.stderr.splitlines()[:2] == ["用法：cuijiao segment [选项]", "运行 cuijiao segment --help 查看帮助。"]

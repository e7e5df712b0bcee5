"""Commands outside a workspace (init, sample, demo, templates, --version): JSON under --json,
one Chinese line instead of a traceback for a path the system refuses."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from conftest import Invoke
from cuijiao import __version__
from cuijiao.cli import app
from cuijiao.workspace import open_workspace
from test_documents import AS_OF as DOCUMENTS_AS_OF
from test_documents import build_estate
from test_record import CHARGES


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _object(result: Result) -> dict[str, object]:
    value = json.loads(result.stdout)
    assert isinstance(value, dict), result.stdout
    return value


@pytest.mark.parametrize("where", ["before", "after"])
def test_init_sample_templates_and_version_print_json(tmp_path: Path, where: str) -> None:
    def run(command: list[str]) -> dict[str, object]:
        args = ["--json", *command] if where == "before" else [*command, "--json"]
        result = _run(*args)
        assert result.exit_code == 0, result.output
        return _object(result)

    made = run(["init", str(tmp_path / "ws")])
    assert made["workspace"] == str(tmp_path / "ws")
    open_workspace(tmp_path / "ws").close()
    sample = run(["sample", str(tmp_path / "export")])
    assert sample["files"] == {kind: str(tmp_path / "export" / name) for kind, name in
                               (("units", "units.xlsx"), ("charges", "charges.csv"), ("payments", "payments.xlsx"))}
    exported = run(["templates", "export", str(tmp_path / "tpl"), "-w", str(tmp_path / "ws")])
    files = exported["files"]
    assert isinstance(files, list) and all(Path(f).is_file() for f in files) and exported["workspace"]
    assert run(["--version"]) == {"version": __version__}


def test_init_error_under_json_is_the_error_object(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("账本", encoding="utf-8")
    result = _run("--json", "init", str(tmp_path / "afile"))
    assert result.exit_code == 2
    data = _object(result)
    assert "是一个文件" in str(data["error"]) and data["problems"] == []


def test_sample_labels_its_files_in_chinese(tmp_path: Path) -> None:
    result = _run("sample", str(tmp_path / "翠湖导出"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("：")[0] for line in lines] == ["房屋业主", "应收", "实收"]
    assert not any(word in result.stdout for word in ("units:", "charges:", "payments:"))


def _one_chinese_line(result: Result, *said: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert all(word in lines[0] for word in said), lines[0]
    return lines[0]


def test_init_through_a_file_is_one_chinese_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("账本", encoding="utf-8")
    _one_chinese_line(_run("init", str(tmp_path / "afile" / "sub")), str(tmp_path / "afile" / "sub"), "是文件")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no folder can be made")
def test_init_where_no_folder_can_be_made_is_one_chinese_line() -> None:
    _one_chinese_line(_run("init", "/proc/cuijiao-nope"), "/proc/cuijiao-nope", "无法")


def test_paths_through_a_file_in_other_commands(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("账本", encoding="utf-8")
    through = str(tmp_path / "afile" / "x")
    _one_chinese_line(_run("templates", "export", through), through, "是文件")
    _one_chinese_line(_run("demo", through), through, "是文件")
    _one_chinese_line(_run("sample", through), through)


def test_whole_file_problems_under_json_carry_their_line_or_null(with_units: Invoke, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(b"".join([",".join(CHARGES[0]).encode("gb18030") + b"\n",
                                "1-101,物业费,2025-05,2025-05-10,10.00\n".encode("gb18030"),
                                "1-101,物业费,2025-06,2025-06-10,10.00\n".encode("gb18030"),
                                "1-101,停车费,2025-06,2025-06-10,10.00\n".encode()]))
    cover = tmp_path / "cover.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为导出说明"])
    book.create_sheet("数据").append(list(CHARGES[0]))
    book.save(cover)
    result = with_units("--json", "import", "charges", str(mixed), str(cover))
    assert result.exit_code == 2
    problems = {p["file"]: p for p in _object(result)["problems"]}  # type: ignore[union-attr]
    assert problems["mixed.csv"]["row"] == 4 and "mixed.csv:4" in problems["mixed.csv"]["message"]
    assert problems["cover.xlsx"]["row"] is None


def test_the_demo_prints_json(tmp_path: Path) -> None:
    result = _run("--json", "demo", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    data = _object(result)
    assert data["workspace"] == str((tmp_path / "demo").resolve())
    months = data["months"]
    assert isinstance(months, list) and len(months) == 12 and all("as_of" in month for month in months)


def _names(text: str, workspace: Path) -> None:
    assert text.strip().splitlines()[-1].endswith(f"（工作区 {workspace}）"), text


def test_template_summaries_name_the_workspace(cli: Invoke, workspace_dir: Path) -> None:
    for command in (["templates", "check"], ["templates", "list"]):
        result = cli(*command)
        assert result.exit_code == 0, result.output
        _names(result.stdout, workspace_dir)
    outside = CliRunner().invoke(app, ["templates", "check"])
    assert outside.stdout.strip().endswith("（不在工作区中：只有内置模板）"), outside.output


def test_explain_ends_with_the_workspace(with_units: Invoke, workspace_dir: Path, tmp_path: Path) -> None:
    charges = tmp_path / "c.csv"
    charges.write_bytes("\n".join(",".join(row) for row in CHARGES).encode("gb18030"))
    assert with_units("import", "charges", str(charges)).exit_code == 0
    result = with_units("segment", "--as-of", "2025-06-30", "--explain", "1-101")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("结果：")
    _names(result.stdout, workspace_dir)
    # Facts as a rule writes them: true/false, text in double quotes; never Python's False or ['出租'].
    assert '  tags = ["出租"]' in result.stdout and "open_dispute = false（否）" in result.stdout
    assert not re.search(r"\b(True|False)\b|\['", result.stdout), result.stdout


def test_errors_name_the_workspace(cli: Invoke, workspace_dir: Path, tmp_path: Path) -> None:
    empty = cli("aging")
    assert empty.exit_code == 2 and "还没有数据" in empty.stderr
    _names(empty.stderr, workspace_dir)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("\n".join([",".join(CHARGES[0]), "1-101,物业费,2025-05,2025-05-10,五十元"]).encode("gb18030"))
    refused = cli("import", "charges", str(bad))
    assert refused.exit_code == 2 and "未导入任何数据" in refused.stderr.splitlines()[-1]
    _names(refused.stderr, workspace_dir)
    as_json = cli("--json", "import", "charges", str(bad))
    assert _object(as_json)["workspace"] == str(workspace_dir)
    config = workspace_dir / "cuijiao.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[estate\n", encoding="utf-8")
    for command in (["aging"], ["run"]):
        unreadable = cli(*command)
        assert unreadable.exit_code == 2 and "cuijiao.toml:" in unreadable.stderr
        _names(unreadable.stderr, workspace_dir)


def test_a_letters_folder_through_a_file_is_refused_before_any_notice(tmp_path: Path) -> None:
    estate = build_estate(tmp_path)
    (tmp_path / "afile").write_text("账本", encoding="utf-8")
    through = str(tmp_path / "afile" / "信件")
    for command in (["notices", "issue", "--as-of", DOCUMENTS_AS_OF], ["notices", "reprint", "CJ2026-000001"]):
        result = _run("-w", str(estate), *command, "-o", through)
        _one_chinese_line(result, through, "是文件", "未做任何改动")
    db = sqlite3.connect(estate / "cuijiao.db")
    assert db.execute("SELECT count(*) FROM notices").fetchone()[0] == 0
    db.close()


def test_an_inbox_that_is_not_a_folder_is_refused(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("账本", encoding="utf-8")
    for inbox, said in ((tmp_path / "afile", "是一个文件"), (tmp_path / "nope", "不存在")):
        _one_chinese_line(cli("run", "--inbox", str(inbox)), str(inbox), said)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no file can be made")
def test_a_report_where_no_file_can_be_made_is_one_line_and_no_spill(with_units: Invoke, workspace_dir: Path,
                                                                       tmp_path: Path) -> None:
    charges = tmp_path / "c.csv"
    charges.write_bytes("\n".join(",".join(row) for row in CHARGES).encode("gb18030"))
    assert with_units("import", "charges", str(charges)).exit_code == 0
    for fmt, target in (("csv", "/proc/cuijiao-x.csv"), ("xlsx", "/proc/cuijiao-x.xlsx")):
        done = subprocess.run([sys.executable, "-m", "cuijiao", "-w", str(workspace_dir), "aging", "--as-of",
                               "2025-06-30", "--format", fmt, "-o", target], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"无法写入 {target}" in lines[0] and ".tmp" not in lines[0], done.stderr
    _one_chinese_line(_run("sample", "/proc/cuijiao-x"), "/proc/cuijiao-x")

"""``init`` where a workspace cannot go: one Chinese line, exit 2, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cuijiao.cli import app
from cuijiao.workspace import init_workspace


def _tree(root: Path) -> list[tuple[str, bytes]]:
    return sorted((str(p.relative_to(root)), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*"))


@pytest.mark.parametrize(("make", "said"), [
    (lambda p: p.write_text("账本", encoding="utf-8"), "是一个文件"),
    (lambda p: (p.mkdir(), (p / "收费明细.xlsx").write_bytes(b"PK")), "不是空文件夹"),
    (lambda p: init_workspace(p).close(), "已经是 cuijiao 工作区"),
], ids=["file", "non-empty folder", "workspace"])
def test_init_refuses_with_one_line(tmp_path: Path, make: object, said: str) -> None:
    target = tmp_path / "翠湖"
    make(target)  # type: ignore[operator]
    before = _tree(tmp_path)
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and "未做任何改动" in lines[0], result.output
    assert _tree(tmp_path) == before


def test_init_takes_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "新小区").mkdir()
    result = CliRunner().invoke(app, ["init", str(tmp_path / "新小区")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "新小区" / "cuijiao.toml").is_file()

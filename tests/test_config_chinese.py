"""cuijiao.toml as a clerk reads and writes it: Chinese comments, synonyms keyed by the Chinese field name."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import Invoke, write_csv
from cuijiao.config import DEFAULT_CONFIG, load_settings

ENGLISH_PROSE = re.compile(r"\b(the|and|of|to|is|are|for|with|this|each|before|after|per|your|must)\b")


def test_every_comment_of_the_default_config_is_chinese() -> None:
    comments = [line for line in DEFAULT_CONFIG.splitlines() if line.lstrip().startswith("#")]
    assert comments
    assert [line for line in comments if ENGLISH_PROSE.search(line)] == []


def test_synonyms_keyed_by_the_chinese_field_name(cli: Invoke, workspace_dir: Path, tmp_path: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    synonyms = 'synonyms = { "房号" = ["户号"], "业主姓名" = ["户主"], unit_id = ["房屋代码"] }'
    config.write_text(config.read_text(encoding="utf-8").replace("synonyms = {}", synonyms), encoding="utf-8")
    settings = load_settings(config)
    assert settings.header_synonyms["unit_id"] == ("户号", "房屋代码")
    assert settings.header_synonyms["owner_name"] == ("户主",)
    units = write_csv(tmp_path / "u.csv", [["户号", "楼栋", "户主", "联系电话", "建筑面积"],
                                           ["1-101", "1栋", "张三", "13800138000", "89.50"]])
    result = cli("import", "units", str(units))
    assert result.exit_code == 0, result.output


def test_an_unknown_chinese_field_lists_the_chinese_names(cli: Invoke, workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "synonyms = {}", 'synonyms = { "户主姓名" = ["户主"] }'), encoding="utf-8")
    result = cli("aging")
    assert result.exit_code == 2
    assert "未知的字段 户主姓名" in result.output and "业主姓名" in result.output


def test_an_unquoted_chinese_key_gets_a_hint_at_its_line(cli: Invoke, workspace_dir: Path) -> None:
    config = workspace_dir / "cuijiao.toml"
    text = config.read_text(encoding="utf-8").replace("synonyms = {}", 'synonyms = { 房号 = ["户号"] }')
    config.write_text(text, encoding="utf-8")
    line = text.splitlines().index('synonyms = { 房号 = ["户号"] }') + 1
    result = cli("aging")
    assert result.exit_code == 2
    assert f"cuijiao.toml:{line}: " in result.output and '"房号"' in result.output

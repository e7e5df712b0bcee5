"""cuijiao.toml as a clerk reads and writes it: Chinese comments, synonyms keyed by the Chinese field name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Invoke, unplaced, write_csv
from cuijiao.config import DEFAULT_CONFIG, field_keys, load_settings
from cuijiao.errors import ConfigError

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
    assert re.search(rf"cuijiao\.toml:{line}:\d+: ", result.output) and '"房号"' in result.output


def _with_synonyms(workspace_dir: Path, synonyms: str) -> tuple[str, int]:
    config = workspace_dir / "cuijiao.toml"
    text = config.read_text(encoding="utf-8").replace("synonyms = {}", f"synonyms = {synonyms}")
    config.write_text(text, encoding="utf-8")
    return text, text.splitlines().index(f"synonyms = {synonyms}") + 1


@pytest.mark.parametrize("key", ["应收金额", "金额", "amount", "应缴金额"])
def test_synonyms_keyed_by_any_column_name_the_readme_lists(cli: Invoke, workspace_dir: Path, tmp_path: Path,
                                                             units_file: Path, key: str) -> None:
    _with_synonyms(workspace_dir, f'{{ "{key}" = ["本月应收款"] }}')
    assert cli("import", "units", str(units_file)).exit_code == 0
    charges = write_csv(tmp_path / "c.csv", [["房号", "收费项目", "所属期间", "应缴日期", "本月应收款"],
                                             ["1-101", "物业费", "2025-01", "2025-01-10", "100.00"]])
    result = cli("import", "charges", str(charges))
    assert result.exit_code == 0, result.output


def test_every_header_the_readme_lists_is_a_synonym_key() -> None:
    table = re.search(r"\| units \|.*?\n\n", Path(__file__).parents[1].joinpath("README.md").read_text("utf-8"), re.S)
    assert table is not None
    names = {word for row in table.group(0).splitlines() for cell in row.split("|")[2:4] for word in cell.split()}
    assert {"房号", "应收金额", "实收金额", "收款日期"} <= names
    assert names <= set(field_keys())


def test_a_synonym_that_is_not_a_list_names_the_key_as_written(cli: Invoke, workspace_dir: Path) -> None:
    _text, line = _with_synonyms(workspace_dir, '{ "房号" = "户号" }')
    result = cli("aging")
    assert result.exit_code == 2
    assert result.output.strip() == (f'cuijiao.toml:{line}: [import] synonyms 中 房号 应为列表，如 "房号" = ["户号"]'
                                     f"（工作区 {workspace_dir}）")


@pytest.mark.parametrize(("written", "said"), [
    ('{ "房号" = ["户号"]', "花括号 { } 没有闭合"),
    ('{ "房号" = ["户号" }', "方括号 [ ] 没有闭合"),
    ('{ "房号" = “户号” }', "中文引号"),
    ('{ "房号" ["户号"] }', "缺少等号"),
    ('{ "房号" = ["户号] }', "缺少结尾的引号"),
], ids=["inline table", "array", "chinese quotes", "equals", "string"])
def test_toml_mistakes_are_told_in_chinese_at_line_and_column(cli: Invoke, workspace_dir: Path,
                                                              written: str, said: str) -> None:
    _text, line = _with_synonyms(workspace_dir, written)
    result = cli("aging")
    assert result.exit_code == 2
    message = unplaced(result.output)
    assert re.match(rf"cuijiao\.toml:{line}:\d+: 格式错误：", message), message
    assert said in message and not re.search(r"[A-Za-z]{4,}", message.replace("cuijiao.toml", "")), message


def test_two_settings_of_the_same_key_are_told_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "cuijiao.toml"
    path.write_text('[estate]\nname = "甲"\nname = "乙"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert re.match(r"cuijiao\.toml:3:\d+: 格式错误：这一项前面已经设置过", str(caught.value)), str(caught.value)

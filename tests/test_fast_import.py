"""The history import read by pandas in columns answers exactly as read row by row.

Each test imports the same file into two workspaces: once as the importer reads a
CSV now (pandas' C tokenizer in small chunks, so that rows fall in many of them,
cells checked a column at a time), once row by row through the csv module (the
columnar reader switched off). Everything the clerk and the auditor see must be the
same: exit code, every message with its file:row:column, the stored rows, the
imports' counts, the audit seals, the rejected rows file.
"""

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from conftest import UNIT_HEADER, write_csv, write_xlsx
from cuijiao.cli import app
from cuijiao.errors import InputProblems
from cuijiao.ingest import csvchunks
from cuijiao.ingest import importer as importer_module
from cuijiao.ingest.importer import ImportOptions, import_files
from cuijiao.store.audit import recorded
from cuijiao.workspace import init_workspace, open_workspace

HEADER = ["房号", "收费项目", "所属期间", "应缴日期", "应收金额"]
UNIT_IDS = [f"1-{n}" for n in range(101, 161)] + ["共1", "6户", "1-1'01"]
MONTHS = [(2024 + (m - 1) // 12, (m - 1) % 12 + 1) for m in range(1, 37)]


def charge(unit: str, month: int, amount: str = "161.10", item: str = "物业费") -> list[str]:
    year, mon = MONTHS[month]
    return [unit, item, f"{year}年{mon}月", f"{year}/{mon}/10", amount]


def history(units: list[str] = UNIT_IDS[:60]) -> list[list[str]]:
    return [charge(unit, month, f"{100 + n % 7}.{n % 100:02d}") for n, unit in enumerate(units)
            for month in range(36)]


def hostile_rows() -> list[list[str]]:
    """A long export with bad cells deep inside, and every kind of row a clerk's file has."""
    body = history()
    body[1500][3] = "2025/2/30"  # no such day
    body[1800][4] = "五十元"
    body[1801][0] = "9-999"  # no such unit
    body[1802][1] = "物业\x1b费"  # a control character
    body[1803][1] = "长" * 201
    body[1804][2] = ""
    body[1805] = body[1805][:3]  # a short row
    body[1806] = [*body[1806], "备注", "多余"]  # a long one
    body[1807][4] = "-20.00"  # 减免 with no charge to reduce
    rows: list[list[str]] = [["翠湖花园应收明细"], [], HEADER, *body[:900]]
    rows += [["", "1栋小计", "", "", "12,345.00"], [], ["", "", "", "", ""]]
    rows += [charge("1-101", 2, "-20.00"), charge("1-101", 3, "-99999.00")]  # 减免, and one past its charge
    # 6户 reads like a totals row's count of units, but is a unit. Row by row, a row whose
    # cells were all seen valid before is data, whatever else it holds; else 合计 in any
    # cell makes it a totals row. The row with 7.77 is data only once the 7.77 of a
    # plain row before it has been seen: the columns must tell the row-by-row path so.
    rows += [charge("6户", 0), [*charge("6户", 6, "7.77"), "合计"], charge("1-101", 6, "7.77", "公共能耗分摊费"),
             [*charge("6户", 7, "7.77"), "合计"], charge("6户", 0)]
    rows += [charge("共1", 0), charge("共1", 1), charge("1-1'01", 0)]
    rows += [charge("1-101", 0)]  # a duplicate identity
    rows += [charge("1-102", 3, "300.00", "装修押金")]
    rows += body[900:]
    rows += [["合计", "", "", "", "9,999,999.00"], ["制表人：王会计", "", "审核：李经理"], ["打印日期 2025-02-01"]]
    return rows


def csv_file(path: Path, rows: list[list[str]], encoding: str = "gb18030") -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


class Side:
    """A workspace with the units, and a way to import charges into it by columns or by rows."""

    def __init__(self, root: Path, columns: bool, chunk: int = 512) -> None:
        self.root, self.columns, self.chunk = root, columns, chunk
        init_workspace(root / "ws", {"name": "翠湖物业服务有限公司", "address": "翠湖路1号", "phone": "0571-88880000"},
                       estate="翠湖花园").close()
        units = write_csv(root / "units.csv", [UNIT_HEADER, *([u, "1栋", "张三", "", "89.5", ""] for u in UNIT_IDS)])
        assert self.invoke("import", "units", str(units)).exit_code == 0

    def invoke(self, *args: str) -> Result:
        self.read_by_pandas = 0
        read_blocks = csvchunks.read_blocks

        def counted(*a: Any, **k: Any) -> Iterator[csvchunks.Block]:
            for block in read_blocks(*a, **k):
                self.read_by_pandas += len(block) if isinstance(block, csvchunks.Lines) else 0
                yield block

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csvchunks, "CHUNK_BYTES", self.chunk)
            patch.setattr(csvchunks, "read_blocks", counted)
            if not self.columns:
                patch.setattr(importer_module, "read_charge_columns", lambda *_: None)
            return CliRunner().invoke(app, ["-w", str(self.root / "ws"), *args])

    def file(self, name: str, rows: list[list[str]], encoding: str = "gb18030") -> Path:
        return csv_file(self.root / "in" / name, rows, encoding)

    def seen(self, result: Result) -> dict[str, Any]:
        """What the clerk and the auditor see, with this side's folder taken out."""
        db = sqlite3.connect(self.root / "ws" / "cuijiao.db")
        with db:
            imports = db.execute("SELECT * FROM imports ORDER BY id").fetchall()
            events = db.execute("SELECT kind, payload FROM events WHERE kind NOT LIKE 'run.%' ORDER BY id").fetchall()
            seen = {
                "exit": result.exit_code,
                "out": result.stdout.replace(str(self.root), "ROOT"),
                "err": result.stderr.replace(str(self.root), "ROOT"),
                "charges": db.execute("SELECT * FROM charges ORDER BY id").fetchall(),
                "imports": [row[:-1] for row in imports],  # all but the time
                "events": [(kind, json.loads(payload.replace(json.dumps(str(self.root))[1:-1], "ROOT")))
                           for kind, payload in events],
                "rejected": [p.read_bytes() for p in sorted((self.root / "in").glob("*.rejected.csv"))],
            }
        db.close()
        return seen


@pytest.fixture(params=[512, 1 << 22], ids=["small chunks", "one chunk"])
def sides(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Side, Side]:
    return Side(tmp_path / "columns", columns=True, chunk=request.param), Side(tmp_path / "rows", columns=False)


def both(sides: tuple[Side, Side], name: str, rows: list[list[str]], *args: str,
         encoding: str = "gb18030") -> tuple[dict[str, Any], dict[str, Any]]:
    seen = []
    for side in sides:
        path = side.file(name, rows, encoding)
        seen.append(side.seen(side.invoke("import", "charges", str(path), *args)))
    return seen[0], seen[1]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_every_problem_deep_in_a_file_is_where_the_row_by_row_path_puts_it(
        sides: tuple[Side, Side], encoding: str) -> None:
    rows = hostile_rows()
    by_columns, by_rows = both(sides, "charges.csv", rows, encoding=encoding)
    assert by_rows["exit"] == 2
    line = 1 + next(i for i, row in enumerate(rows) if row[3:4] == ["2025/2/30"])
    assert line > 1500
    assert f"charges.csv:{line}:应缴日期: 日期“2025/2/30”不存在" in by_rows["err"]  # the test reaches deep rows …
    assert sides[0].read_by_pandas == len(rows) - 3 and sides[1].read_by_pandas == 0
    assert by_rows["charges"] == []
    assert by_columns == by_rows  # … and the columns report every one of them the same way


def test_skip_invalid_stores_and_rejects_the_same_rows(sides: tuple[Side, Side]) -> None:
    by_columns, by_rows = both(sides, "charges.csv", hostile_rows(), "--skip-invalid")
    assert by_rows["exit"] == 3
    assert len(by_rows["charges"]) > 2000
    keys = {row[1] for row in by_rows["charges"]}
    assert "c:6户\x1f物业费\x1f2024-08" in keys  # data: its cells were all seen …
    assert "c:6户\x1f物业费\x1f2024-07" not in keys  # … a totals row: its 7.77 was not yet
    assert by_columns == by_rows


def test_dry_run_then_import_then_the_same_again_then_a_changed_file(sides: tuple[Side, Side]) -> None:
    rows = [["翠湖花园应收明细"], [], HEADER, *history(), ["合计", "", "", "", "1.00"]]
    changed = [row[:] for row in rows]
    changed[500][4] = "999.99"
    changed[501][4] = "-1.00"
    steps = [(rows, ("--dry-run",), "新增 2160"), (rows, (), "新增 2160"), (rows, (), "未变 2160"),
             (changed, (), "冲突"), (changed, ("--replace",), "替换 1")]
    for file_rows, args, said in steps:
        by_columns, by_rows = both(sides, "charges.csv", file_rows, *args)
        assert said in by_rows["out"] + by_rows["err"], (args, by_rows["out"], by_rows["err"])
        assert by_columns == by_rows


def test_a_cell_across_lines_and_a_nul_late_in_the_file(sides: tuple[Side, Side]) -> None:
    rows = [HEADER, *history()]
    rows[1700][1] = "物业\n费"  # pandas stops before it; the csv module reads on
    by_columns, by_rows = both(sides, "charges.csv", rows, "--skip-invalid")
    assert by_columns == by_rows
    rows[1700][1] = "物业\x00费"
    by_columns, by_rows = both(sides, "nul.csv", rows)
    assert by_rows["exit"] == 2 and "nul.csv:" in by_rows["err"]
    assert by_columns == by_rows


def test_a_row_whose_unit_went_missing_is_refused_at_its_place(tmp_path: Path) -> None:
    """The bulk load runs with foreign keys off and checks them once after: a row whose unit is
    not stored (here: the reader is told of a unit that is not there) is a located error."""
    side = Side(tmp_path, columns=True)
    path = side.file("charges.csv", [HEADER, *history(), charge("9-999", 0)])
    real = importer_module.ledger.known_unit_ids
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(importer_module.ledger, "known_unit_ids", lambda connection: {*real(connection), "9-999"})
        result = side.invoke("import", "charges", str(path))
        assert result.exit_code == 2
        assert f"charges.csv:{len(history()) + 2}:房号: 房号“9-999”不在房屋资料中" in result.stderr
        workspace = open_workspace(side.root / "ws")
        with pytest.raises(InputProblems), recorded(workspace.db, "import charges", []) as run:
            import_files(workspace, run, "charges", [path], ImportOptions())
        assert workspace.db.execute("PRAGMA foreign_keys").fetchone() == (1,)  # on again for what comes next
        assert workspace.db.execute("SELECT count(*) FROM charges").fetchone() == (0,)
        workspace.db.close()
    assert side.invoke("import", "charges", str(side.file("ok.csv", [HEADER, *history()]))).exit_code == 0
    assert side.invoke("audit", "verify").exit_code == 0


def test_several_files_in_one_import_some_read_by_rows(sides: tuple[Side, Side], tmp_path: Path) -> None:
    """Ids follow the files' order whichever way each was read; a twin across files is named."""
    rows = [HEADER, *history()]
    # one workbook for both sides: openpyxl stamps the time it saves into the file
    book = write_xlsx(tmp_path / "b.xlsx", [HEADER, *history(UNIT_IDS[60:63]), rows[5]]).read_bytes()
    seen = []
    for side in sides:
        first = side.file("a.csv", rows[:1000])
        workbook = side.root / "in" / "b.xlsx"
        workbook.write_bytes(book)
        last = side.file("c.csv", [HEADER, *rows[1000:]], "utf-8")
        seen.append(side.seen(side.invoke("import", "charges", str(first), str(workbook), str(last),
                                          "--skip-invalid")))
    assert "b.xlsx[Sheet1]:110: 与a.csv 第 6 行重复" in seen[1]["err"]
    assert len(seen[1]["charges"]) == len(history()) + 36 * 3
    assert seen[0] == seen[1]
    for side in sides:
        assert side.invoke("audit", "verify").exit_code == 0


def test_a_table_filled_since_it_was_read_is_merged_as_any_other(sides: tuple[Side, Side]) -> None:
    """The import expected an empty table (foreign keys off for a bulk load), but another
    import filled it meanwhile: it merges with foreign keys on, as into any table."""
    rows = [HEADER, *history()]
    for side in sides:
        assert side.invoke("import", "charges", str(side.file("first.csv", rows[:500]))).exit_code == 0
    columns, by_rows = sides
    with pytest.MonkeyPatch.context() as patch:
        real, calls = importer_module.bulk.is_empty, []

        def looks_empty(db: sqlite3.Connection, table: Any) -> bool:
            calls.append(table)
            return True if len(calls) == 1 else real(db, table)

        patch.setattr(importer_module.bulk, "is_empty", looks_empty)
        seen_columns = columns.seen(columns.invoke("import", "charges", str(columns.file("all.csv", rows))))
    assert len(calls) > 1  # it looked again under the write lock
    seen_rows = by_rows.seen(by_rows.invoke("import", "charges", str(by_rows.file("all.csv", rows))))
    assert seen_rows["exit"] == 0 and "未变 499" in seen_rows["out"]
    assert seen_columns == seen_rows


def test_two_files_read_in_columns_are_sealed_as_read_back(sides: tuple[Side, Side]) -> None:
    """The seal of two imports hashed from columns is the one read back (audit verify agrees)."""
    rows = [HEADER, *history(UNIT_IDS)]
    seen = []
    for side in sides:
        files = [side.file("a.csv", rows[:1234]), side.file("b.csv", [HEADER, *rows[1234:]], "utf-8-sig")]
        seen.append(side.seen(side.invoke("import", "charges", *map(str, files))))
        assert side.invoke("audit", "verify").exit_code == 0
    assert seen[1]["exit"] == 0 and len(seen[1]["charges"]) == len(rows) - 1
    assert seen[0] == seen[1]

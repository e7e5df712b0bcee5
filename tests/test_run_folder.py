"""A run folder's files: completed after a killed issue, cells neutralised, personal data private."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest

from cuijiao.documents.manifest import listed_files, manifest_csv
from cuijiao.documents.output import Written
from test_documents import AS_OF, build_estate, run_cli


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    return build_estate(tmp_path)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_next_issue_completes_a_folder_a_killed_issue_left_without_its_files(estate: Path) -> None:
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3, output
    folder = next((estate / "out").glob("*_*"))
    before = {name: (folder / name).read_bytes() for name in ("manifest.csv", "sms.csv")}
    calls = sorted(p.name for p in folder.glob("call_sheet_*.docx"))
    for name in ("manifest.csv", "sms.csv", "print_all.docx", *calls):  # killed after the letters were written
        (folder / name).unlink()
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert code == 3 and "已补全" in output, output
    assert (folder / "sms.csv").read_bytes() == before["sms.csv"]
    assert sorted(p.name for p in folder.glob("call_sheet_*.docx")) == calls and (folder / "print_all.docx").is_file()
    with (folder / "manifest.csv").open(encoding="utf-8-sig") as stream:
        listed = {row["文件"] for row in csv.DictReader(stream)}
    assert {p.name for p in folder.glob("CJ*.docx")} | {"sms.csv", "print_all.docx", *calls} <= listed
    code, output = run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    assert "已补全" not in output, output  # complete now: nothing rebuilt


def test_manifest_neutralises_unit_ids_a_spreadsheet_would_run() -> None:
    rows = [Written(Path("a.docx"), "0" * 64, '=HYPERLINK("http://x","y")', "CJ2026-000001", 2, 12345),
            Written(Path("b.docx"), "1" * 64, "@SUM(1)", "CJ2026-000002", 2, 100)]
    read = list(csv.DictReader(io.StringIO(manifest_csv(rows).decode("utf-8-sig"))))
    assert [r["房号"] for r in read] == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(1)"]
    assert read[0]["金额"] == "123.45"


def test_the_manifest_has_chinese_headers_and_old_ones_are_still_read(tmp_path: Path) -> None:
    new = manifest_csv([Written(Path("CJ2026-000001_1-101.docx"), "0" * 64, "1-101", "CJ2026-000001", 2, 12345)])
    header = next(csv.reader(io.StringIO(new.decode("utf-8-sig"))))
    assert header == ["文件", "房号", "通知编号", "级别", "金额", "SHA-256"]
    (tmp_path / "new.csv").write_bytes(new)
    assert listed_files(tmp_path / "new.csv") == {"CJ2026-000001_1-101.docx"}
    old = ("\ufefffile,unit_id,notice_no,stage,amount,sha256\r\n"
           "CJ2026-000001_1-101.docx,1-101,CJ2026-000001,2,123.45,00\r\n")
    (tmp_path / "old.csv").write_text(old, encoding="utf-8")
    assert listed_files(tmp_path / "old.csv") == {"CJ2026-000001_1-101.docx"}


def test_run_folders_logs_and_settings_are_private(estate: Path, tmp_path: Path) -> None:
    assert mode(estate / "cuijiao.toml") == 0o600
    run_cli("-w", str(estate), "notices", "issue", "--as-of", AS_OF)
    folder = next((estate / "out").glob("*_*"))
    assert mode(folder) == 0o700
    code, output = run_cli("-w", str(estate), "notices", "reprint", "CJ2026-000001")
    assert code == 0, output
    assert all(mode(p) == 0o700 for p in (estate / "out").glob("reprint_*"))
    code, output = run_cli("-w", str(estate), "run", "--as-of", "2026-11-26")
    assert code in (0, 3), output
    assert mode(estate / "out" / "2026-11-26") == 0o700
    logs = list((estate / "logs").glob("*.log"))
    assert logs and all(mode(p) == 0o600 for p in logs)

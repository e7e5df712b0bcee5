"""``cuijiao run``: the monthly batch on real files, a real database and real documents."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pytest

from conftest import UNIT_HEADER, UNITS, write_csv
from conftest import invoke_parts as _cli
from cuijiao.reports.charts import INSTALL_HINT, find_cjk_font
from cuijiao.sample import EstateSpec, write_estate
from cuijiao.workspace import init_workspace, open_workspace

SMALL = EstateSpec(units=24, months=18)


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """A workspace whose inbox holds a small estate's three exports."""
    root = tmp_path / "翠湖"
    init_workspace(root, {"name": "翠湖物业服务有限公司", "address": "翠湖路1号", "phone": "0571-88880000"},
                   estate="翠湖花园").close()  # letters need both
    write_estate(root / "inbox", SMALL)
    return root


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_run_imports_the_inbox_in_order_and_writes_the_month(estate: Path) -> None:
    code, out, _err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 0, out
    done = estate / "inbox" / "done" / "2026-10-31"
    assert sorted(p.name for p in done.iterdir()) == ["charges.csv", "payments.xlsx", "units.xlsx"]
    assert not [p for p in (estate / "inbox").iterdir() if p.is_file()]
    out_dir = estate / "out" / "2026-10-31"
    assert {p.name for p in out_dir.iterdir()} >= {"月报_2026-10.docx", "月报_2026-10.xlsx", "账龄_2026-10-31.xlsx"}
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("月度批处理 2026-10-31 完成")
    assert f"工作区 {estate}" in summary
    db = sqlite3.connect(estate / "cuijiao.db")
    issued = db.execute("SELECT count(*) FROM notices").fetchone()[0]
    assert issued > 0
    assert f"发出通知 {issued} 份" in summary
    # Imported in order: units before the charges and payments that need them.
    kinds = [row[0] for row in db.execute("SELECT kind FROM imports ORDER BY id")]
    assert kinds == ["units", "charges", "payments"]
    text = _docx_text(out_dir / "月报_2026-10.docx")
    for heading in ("收缴率", "清欠率", "欠费最多的十户", "本月发出的通知", "催缴结果", "诉讼时效", "待审批"):
        assert heading in text
    assert "2025-11" in text and "2026-10" in text  # twelve months of KPIs


def test_a_second_run_issues_nothing_new(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    db = sqlite3.connect(estate / "cuijiao.db")
    before = db.execute("SELECT count(*) FROM notices").fetchone()[0]
    code, out, _ = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 0
    assert db.execute("SELECT count(*) FROM notices").fetchone()[0] == before
    assert "发出通知 0 份" in out


def test_an_unknown_file_goes_to_failed_with_its_reason_and_the_others_still_go(estate: Path) -> None:
    (estate / "inbox" / "备忘.csv").write_bytes("事项,备注\n换灯泡,3栋\n".encode("gb18030"))
    code, out, err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 3, out + err
    failed = estate / "inbox" / "failed" / "2026-10-31"
    assert (failed / "备忘.csv").is_file()
    report = (failed / "备忘.csv.错误.txt").read_text(encoding="utf-8")
    assert "无法识别文件类型" in report
    assert "房屋业主文件缺少必需的列：房号、楼栋、业主姓名、联系电话、建筑面积" in report
    assert "未导入 备忘.csv" in err
    assert "失败 1 个" in out
    assert len(list((estate / "inbox" / "done" / "2026-10-31").iterdir())) == 3


def test_files_are_told_apart_by_their_columns_not_their_names(estate: Path) -> None:
    inbox = estate / "inbox"
    for old, new in (("units.xlsx", "a.xlsx"), ("charges.csv", "b.csv"), ("payments.xlsx", "c.xlsx")):
        (inbox / old).rename(inbox / new)
    (inbox / "a.xlsx").rename(inbox / "z.xlsx")  # units sort last by name, and still go first
    code, out, _ = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 0, out
    db = sqlite3.connect(estate / "cuijiao.db")
    assert [row[0] for row in db.execute("SELECT kind FROM imports ORDER BY id")] == ["units", "charges", "payments"]


def _with_cover(path: Path, *sheets: str) -> list[str]:
    """The export with cover sheets put before its data (as a billing system's 说明 page); its sheet names."""
    workbook = openpyxl.load_workbook(path)
    for index, title in enumerate(sheets):
        cover = workbook.create_sheet(title, index)
        cover.append(["本表由收费系统导出，数据在后面的工作表"])
    workbook.save(path)
    return workbook.sheetnames


def test_a_workbook_with_a_cover_sheet_is_read_from_the_sheet_with_the_columns(estate: Path) -> None:
    names = _with_cover(estate / "inbox" / "payments.xlsx", "说明")
    code, out, err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 0, out + err
    db = sqlite3.connect(estate / "cuijiao.db")
    assert db.execute("SELECT sheet FROM imports WHERE kind = 'payments'").fetchone() == (names[1],)
    assert f"工作表“{names[1]}”" in (estate / "logs" / "2026-10-31.log").read_text(encoding="utf-8")


def test_a_workbook_whose_sheets_hold_no_columns_fails_listing_them(estate: Path) -> None:
    path = estate / "inbox" / "备忘.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["导出说明"])
    workbook.create_sheet("汇总").append(["楼栋", "户数"])
    workbook.save(path)
    code, out, err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 3, out + err
    report = (estate / "inbox" / "failed" / "2026-10-31" / "备忘.xlsx.错误.txt").read_text(encoding="utf-8")
    assert "（说明、汇总）" in report and "--sheet" in report, report


def test_an_earlier_as_of_is_refused_unless_forced_and_then_audited(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    code, _, err = _cli("-w", str(estate), "run", "--as-of", "2026-09-30")
    assert code == 2
    assert "早于上次月度批处理的截至日期 2026-10-31" in err and "--force" in err
    code, out, _ = _cli("-w", str(estate), "run", "--as-of", "2026-09-30", "--force")
    assert code == 0, out
    db = sqlite3.connect(estate / "cuijiao.db")
    payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM events WHERE kind = 'run.backdated'")]
    assert payloads == [{"as_of": "2026-09-30", "last_as_of": "2026-10-31", "forced": True}]
    assert _cli("-w", str(estate), "audit", "verify")[0] == 0
    # Forced back in time, the run reports but the ladder does not move back: nothing issued or
    # closed on a day before the cases' last step.
    assert "不发通知" in out, out
    assert db.execute("SELECT count(*) FROM notices WHERE issued_on < '2026-10-31'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM case_closings WHERE closed_on < '2026-10-31'").fetchone()[0] == 0


@pytest.mark.parametrize("command", [("notices", "plan"), ("notices", "issue")])
def test_a_plan_before_the_last_recorded_step_is_refused_and_changes_nothing(estate: Path,
                                                                             command: tuple[str, str]) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    db = sqlite3.connect(estate / "cuijiao.db")
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("notices", "cases", "case_closings")]
    assert counts[0] > 0
    code, _, err = _cli("-w", str(estate), *command, "--as-of", "2026-09-30")
    assert code == 2 and "早于已记录的最近一次催缴（2026-10-31）" in err, err
    assert [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("notices", "cases", "case_closings")] == counts


def test_a_folder_that_is_not_a_workspace_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = _cli("-w", str(tmp_path / "nowhere"), "run", "--as-of", "2026-10-31")
    assert code == 2
    assert "cuijiao init" in err


_HOLD = """
import sys, time
from pathlib import Path
from cuijiao.store.lock import workspace_lock
with workspace_lock(Path(sys.argv[1]), "cuijiao run --as-of 2026-10-31"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_run_while_another_holds_the_lock_exits_1_naming_it(estate: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(estate)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _, err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
        assert code == 1
        assert f"进程 {holder.pid}" in err and "cuijiao run --as-of 2026-10-31" in err
        assert [p.name for p in (estate / "inbox").iterdir() if p.is_file()]  # nothing was imported
    finally:
        holder.kill()
        holder.wait()


def test_the_log_names_steps_and_counts_never_owners(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    log = (estate / "logs" / "2026-10-31.log").read_text(encoding="utf-8")
    assert "导入 units.xlsx（房屋业主）" in log and "run#" in log
    assert log.rstrip().splitlines()[-1].split(" ", 2)[2].startswith("完成；审计链头")
    segments = next(line for line in log.splitlines() if "分群：" in line).split("分群：", 1)[1]
    named = [part.rsplit(" ", 1)[0] for part in segments.split("，")]
    workspace = open_workspace(estate)
    rules = workspace.settings.segment_rules
    workspace.close()
    assert named and set(named) <= {rule.label for rule in rules}, segments
    assert not {rule.name for rule in rules} & set(named)
    db = sqlite3.connect(estate / "cuijiao.db")
    for name, phone in db.execute("SELECT owner_name, phone FROM units"):
        assert name not in log
        assert not phone or phone not in log


def test_the_report_workbook_stores_rates_as_percentages(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    book = openpyxl.load_workbook(estate / "out" / "2026-10-31" / "月报_2026-10.xlsx")
    sheet = book["收缴率与清欠率"]
    headers = ["月份", "当月应收", "当月已收", "收缴率", "月初欠费", "本月收回欠费", "清欠率"]
    assert [c.value for c in sheet[1]] == headers
    assert sheet.max_row == 13  # twelve months
    last = sheet[13]
    assert last[0].value == "2026-10"
    assert last[3].number_format == "0.00%"
    assert 0 <= float(last[3].value) <= 1
    assert "账龄变动" in book.sheetnames and "欠费最多十户" in book.sheetnames


def test_both_workbooks_store_dates_as_dates_counts_as_whole_numbers_and_amounts_as_money(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    folder = estate / "out" / "2026-10-31"
    report, aging = (openpyxl.load_workbook(folder / name) for name in ("月报_2026-10.xlsx", "账龄_2026-10-31.xlsx"))
    for book in (report, aging):
        for sheet in book.worksheets:
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    assert not (isinstance(cell.value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", cell.value)), \
                        (sheet.title, cell.coordinate, cell.value)  # a date stored as text
    largest = report["欠费最多十户"]
    oldest = [c.value for c in largest[1]].index("最早应缴日")
    days = [row[oldest] for row in largest.iter_rows(min_row=2)]
    assert days and all(c.is_date and c.number_format == "yyyy-mm-dd" for c in days)
    counts = [c for row in report["本月通知"].iter_rows(min_row=2) for c in row[1:]]
    assert counts and all(c.data_type == "n" and c.number_format == "#,##0" for c in counts)
    assert all(row[1].number_format == "#,##0" for row in report["催缴结果"].iter_rows(min_row=2))
    limitation = {row[0].value: row[1] for row in report["诉讼时效"].iter_rows(min_row=2)}
    assert limitation["已届满"].number_format == "#,##0" and limitation["涉及欠费"].number_format == "#,##0.00"
    rates = [row[3] for row in report["收缴率与清欠率"].iter_rows(min_row=2) if row[3].value is not None]
    assert rates and all(c.data_type == "n" and c.number_format == "0.00%" for c in rates)
    households = [c.value for c in aging["按楼栋"][1]].index("欠费户数")
    assert all(row[households].number_format == "#,##0" for row in aging["按楼栋"].iter_rows(min_row=2))


def test_without_a_cjk_font_the_report_says_how_to_install_one(estate: Path) -> None:
    import matplotlib as mpl  # noqa: PLC0415

    latin_only = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    config = estate / "cuijiao.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('font = ""', f'font = "{latin_only}"'),
                      encoding="utf-8")
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    report = estate / "out" / "2026-10-31" / "月报_2026-10.docx"
    assert "不含中文字形" in _docx_text(report)
    assert INSTALL_HINT in _docx_text(report).replace("\n", "")
    assert not docx.Document(str(report)).inline_shapes  # no chart with boxes for labels


@pytest.mark.skipif(find_cjk_font().path is None, reason="this machine has no CJK font to draw with")
def test_with_a_cjk_font_the_report_carries_its_two_charts(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    report = docx.Document(str(estate / "out" / "2026-10-31" / "月报_2026-10.docx"))
    assert len(report.inline_shapes) == 2


def test_a_template_that_fails_check_stops_the_run_before_any_change(estate: Path, tmp_path: Path) -> None:
    assert _cli("templates", "export", str(tmp_path / "t"))[0] == 0
    document = docx.Document(str(tmp_path / "t" / "stage3_demand.docx"))
    document.add_paragraph("逾期不缴将停水停电。")
    override = estate / "templates" / "notices"
    override.mkdir(parents=True, exist_ok=True)
    document.save(str(override / "stage3_demand.docx"))
    code, _, err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 2
    assert "模板未通过检查" in err and "stage3_demand" in err and "停水" in err
    assert len([p for p in (estate / "inbox").iterdir() if p.is_file()]) == 3  # the inbox is untouched
    db = sqlite3.connect(estate / "cuijiao.db")
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM notices").fetchone()[0] == 0


def test_a_run_that_fails_after_importing_says_the_imports_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, {"name": "翠湖物业服务有限公司", "address": "翠湖路1号", "phone": "0571-88880000"},
                   estate="翠湖花园").close()
    write_csv(root / "inbox" / "units.csv", [UNIT_HEADER, *UNITS])  # no charges yet: the aging step fails
    code, _out, err = _cli("-w", str(root), "run", "--as-of", "2026-10-31")
    assert code == 2
    assert (root / "inbox" / "done" / "2026-10-31" / "units.csv").is_file()
    db = sqlite3.connect(root / "cuijiao.db")
    assert db.execute("SELECT count(*) FROM units").fetchone()[0] == len(UNITS)
    kept = "已导入的 1 个文件保留（见 inbox/done/2026-10-31/）"
    failed = next(line for line in (root / "logs" / "2026-10-31.log").read_text(encoding="utf-8").splitlines()
                  if "失败" in line)
    assert "未做改动" not in failed and kept in failed and "其后的步骤未执行" in failed, failed
    assert kept in err and "应收" in err, err  # the clerk is told too, after the reason
    code, _out, _err = _cli("-w", str(root), "audit", "log")
    assert "运行结束：输入有误；已导入的 1 个文件保留" in _out


def test_a_run_refused_before_the_inbox_still_says_nothing_changed(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    code, _out, err = _cli("-w", str(estate), "run", "--as-of", "2026-09-30")
    assert code == 2 and "已导入" not in err
    log = (estate / "logs" / "2026-09-30.log").read_text(encoding="utf-8")
    assert "失败：输入有误，未做改动" in log


def test_the_month_folder_holds_a_document_for_every_notice(estate: Path) -> None:
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    out_dir = estate / "out" / "2026-10-31"
    db = sqlite3.connect(estate / "cuijiao.db")
    manifest = (out_dir / "manifest.csv").read_text(encoding="utf-8-sig")
    notices = db.execute("SELECT notice_no, unit_id FROM notices").fetchall()
    assert notices
    for notice_no, unit_id in notices:
        letter = out_dir / f"{notice_no}_{unit_id}.docx"
        assert docx.Document(str(letter)).paragraphs  # a whole Word document
        assert letter.name in manifest
    assert (out_dir / "print_all.docx").is_file()


def test_an_approval_later_in_the_month_keeps_the_month_files_whole(estate: Path) -> None:
    config = estate / "cuijiao.toml"  # written demands need approval here, so the month has a second batch
    config.write_text(config.read_text(encoding="utf-8").replace("approval_stages = [4, 5]", "approval_stages = [2]"),
                      encoding="utf-8")
    code, out, _ = _cli("--json", "-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 0, out
    waiting = json.loads(out)["waiting_approval"]
    assert waiting and json.loads(out)["issued"], "reminders went out, written demands wait for approval"
    code, out, _ = _cli("--json", "-w", str(estate), "run", "--as-of", "2026-10-31", "--approve", waiting[0])
    assert code == 0, out
    assert [n["unit_id"] for n in json.loads(out)["issued"]] == [waiting[0]]
    db = sqlite3.connect(estate / "cuijiao.db")
    letters = {f"{no}_{unit}.docx" for no, unit in db.execute("SELECT notice_no, unit_id FROM notices")}
    out_dir = estate / "out" / "2026-10-31"
    manifest = (out_dir / "manifest.csv").read_text(encoding="utf-8-sig").splitlines()
    assert {line.split(",", 1)[0] for line in manifest[1:]} >= letters  # the print file's letters, all of them
    merged = docx.Document(str(out_dir / "print_all.docx"))
    assert len(merged.element.body) > len(letters)


def test_the_report_and_the_log_carry_the_chain_head_that_verify_accepts(estate: Path) -> None:
    import re  # noqa: PLC0415

    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    out_dir = estate / "out" / "2026-10-31"
    head = re.compile(r"审计链头：(\d+:[0-9a-f]{64})")
    document = docx.Document(str(out_dir / "月报_2026-10.docx"))
    found = head.search(_docx_text(out_dir / "月报_2026-10.docx"))
    assert found is not None
    assert head.search(document.sections[0].footer.paragraphs[0].text)
    sheet = openpyxl.load_workbook(out_dir / "月报_2026-10.xlsx")["审计链头"]
    in_book = head.search(str(sheet["A2"].value))
    assert in_book is not None and in_book.group(1) == found.group(1)
    in_log = head.search((estate / "logs" / "2026-10-31.log").read_text(encoding="utf-8"))
    assert in_log is not None
    for printed in (found.group(1), in_log.group(1)):
        code, out, err = _cli("-w", str(estate), "audit", "verify", "--head", printed)
        assert code == 0, out + err
    db = sqlite3.connect(estate / "cuijiao.db")
    count = int(found.group(1).split(":")[0])
    wrong = f"{count}:{'0' * 64}"
    db.close()
    assert _cli("-w", str(estate), "audit", "verify", "--head", wrong)[0] == 1


def test_the_inbox_s_warnings_reach_the_clerk_the_log_and_the_exit_code(estate: Path) -> None:
    """What `import` says of a file (a designation naming no charge) `run` says too: on stderr, in the
    month's log and its JSON, counted in the summary, and exit 3 for cron to notice."""
    write_csv(estate / "inbox" / "补录实收.csv", [["收据号", "房号", "实收金额", "收款日期", "收费项目", "所属期间"],
                                                 ["BL-1", "1-1-101", "30.00", "2026-10-20", "停车费", "2025-01"]])
    code, out, err = _cli("-w", str(estate), "run", "--as-of", "2026-10-31")
    assert code == 3, out + err
    warning = "提醒 补录实收.csv:2: 指定的“停车费 2025-01”没有对应的应收，将按法定顺序抵扣"
    assert warning in err
    assert "提醒 1 条（见 logs/2026-10-31.log）" in out.strip().splitlines()[-1]
    assert warning in (estate / "logs" / "2026-10-31.log").read_text(encoding="utf-8")
    assert (estate / "inbox" / "done" / "2026-10-31" / "补录实收.csv").is_file()  # imported, not failed


def test_the_reports_given_to_the_manager_are_sealed_in_the_audit_trail(estate: Path) -> None:
    """As the manifest does for the letters: each report's SHA-256 recorded by the run that wrote it."""
    assert _cli("-w", str(estate), "run", "--as-of", "2026-10-31")[0] == 0
    with sqlite3.connect(estate / "cuijiao.db") as db:
        payloads = [json.loads(row[0]) for row in db.execute("SELECT payload FROM events WHERE kind = 'reports.write'")]
    assert len(payloads) == 1
    out_dir = estate / "out" / "2026-10-31"
    written = {p.name for p in out_dir.iterdir() if p.name.startswith(("月报_", "账龄_"))}
    assert set(payloads[0]["files"]) == written == {"月报_2026-10.docx", "月报_2026-10.xlsx", "账龄_2026-10-31.xlsx"}
    for name, sha in payloads[0]["files"].items():
        assert hashlib.sha256((out_dir / name).read_bytes()).hexdigest() == sha
    code, out, _ = _cli("-w", str(estate), "audit", "log")
    assert code == 0 and "写出报表：" in out

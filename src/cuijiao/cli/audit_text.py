"""An audit event as a line a person reads: ``通知已发出 CJ2026-000012 第2级 ¥3,480.00``.

``audit log --json`` keeps the raw payload; this is only how the table says it.
An event kind not known here is shown by its kind and its fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cuijiao.money import format_yuan, parse_amount
from cuijiao.stages import STAGE_NAMES
from cuijiao.store.audit import TABLE_LABELS, run_failure_words
from cuijiao.store.ledger import CHARGES, PAYMENTS

KIND_LABELS = {"units": "房屋业主", "charges": "应收", "payments": "实收"}
FIELD_LABELS = {"owner_name": "业主", "phone": "电话", "building": "楼栋", "area_m2": "面积", "tags": "标签",
                "address": "通讯地址", "amount": "金额", "due_date": "应缴日期", "item": "项目", "period": "期间",
                "paid_on": "收款日期", "receipt_no": "收据号", **CHARGES.labels, **PAYMENTS.labels}
# A charge's kind in the ledger (charges.kind), as the clerk's export says it.
CHARGE_KINDS = {"charge": "应收", "deposit": "押金", "adjustment": "调整", "payment": "收款"}


def money(value: object) -> str:
    """``"3480.00"`` → ``¥3,480.00``; what is not an amount is shown as it is."""
    try:
        return f"¥{format_yuan(parse_amount(value), grouping=True)}"
    except ValueError:
        return str(value)


def _stage(stage: object) -> str:
    return f"第{stage}级 {STAGE_NAMES.get(stage, '')}".rstrip() if isinstance(stage, int) else ""


def _join(*parts: object) -> str:
    return " ".join(str(part) for part in parts if part not in (None, ""))


def _notice_issue(p: Mapping[str, Any]) -> str:
    deadline = f"，缴费期限 {p['deadline']}" if p.get("deadline") else ""
    purpose = "（时效催告）" if p.get("purpose") == "limitation" else ""
    said = _join("通知已发出", p.get("notice_no"), _stage(p.get("stage")), money(p.get("amount", "")))
    return said + purpose + deadline


def _delivered(p: Mapping[str, Any]) -> str:
    signer = f"，签收人 {p['signer']}（{p.get('relation') or ''}）" if p.get("signer") else ""
    evidence = f"，凭证 {p['evidence']}" if p.get("evidence") else ""
    return f"通知已送达 {p.get('notice_no', '')}：{p.get('on', '')} {p.get('method', '')}{signer}{evidence}"


def _import(p: Mapping[str, Any]) -> str:
    return (f"导入{KIND_LABELS.get(str(p.get('kind')), p.get('kind'))} {p.get('name') or p.get('file') or ''}："
            f"新增 {p.get('inserted', 0)}，未变 {p.get('unchanged', 0)}，替换 {p.get('replaced', 0)}，"
            f"拒绝 {p.get('rejected', p.get('rejected_rows', 0))}")


def shown(field: str, value: object) -> str:
    """A stored value as a clerk reads it: fen as ``¥1,250.00``, a list of tags joined, nothing as （无）."""
    if value is None or value in ("", []):
        return "（无）"
    if field == "amount_fen" and isinstance(value, int) and not isinstance(value, bool):
        return f"¥{format_yuan(value, grouping=True)}"
    if field == "amount":
        return money(value)
    if field == "kind":
        return CHARGE_KINDS.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)


def _before_after(changes: Mapping[str, Any]) -> str:
    return "；".join(f"{FIELD_LABELS.get(k, k)} {shown(k, v.get('before'))} → {shown(k, v.get('after'))}"
                    for k, v in changes.items() if isinstance(v, Mapping))


def _changes(p: Mapping[str, Any]) -> str:
    return f"房屋资料变更（{p.get('file', '')} 第 {p.get('row', '')} 行）：{_before_after(p.get('changes') or {})}"


def _replaced(label: str) -> Callable[[Mapping[str, Any]], str]:
    def said(p: Mapping[str, Any]) -> str:
        before, after = p.get("before") or {}, p.get("after") or {}
        changes = {k: {"before": before.get(k) if isinstance(before, Mapping) else None, "after": v}
                   for k, v in after.items()} if isinstance(after, Mapping) else {}
        return f"替换{label}（{p.get('file', '')} 第 {p.get('row', '')} 行）：{_before_after(changes) or '内容未变'}"
    return said


def _touched(p: Mapping[str, Any]) -> str:
    places = "、".join(f"{TABLE_LABELS.get(str(place[0]), place[0])} 第 {place[1]} 次导入"
                      for place in p.get("touched") or [] if isinstance(place, list | tuple) and len(place) == 2)
    return "发现台账在 cuijiao 之外被改动" + (f"（{places}）" if places else "")


def _allocation(p: Mapping[str, Any]) -> str:
    afresh = p.get("allocated_afresh") or []
    return (f"收款分配已更新：{p.get('extended_units', 0)} 户在原有分配上续算，"
            f"{len(afresh) if isinstance(afresh, list) else afresh} 户重新分配")


_OUTCOMES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "promise": lambda p: f"记录承诺：{p.get('until', '')} 前缴 {money(p.get('amount', ''))}（{p.get('on', '')}）",
    "dispute": lambda p: f"记录争议：{p.get('reason', '')}（{p.get('on', '')}）",
    "resolve": lambda p: _join(f"争议已解决（{p.get('on', '')}）", p.get("note")),
    "hold": lambda p: f"暂停催缴至 {p.get('until', '')}：{p.get('reason', '')}（{p.get('on', '')}）",
    "call": lambda p: _join(f"催缴电话：{p.get('outcome', '')}（{p.get('on', '')}）", p.get("note")),
    "legal": lambda p: _join(f"法律程序：{p.get('step', '')}（{p.get('on', '')}）", p.get("evidence")),
}


def _outcome(p: Mapping[str, Any]) -> str:
    said = _OUTCOMES.get(str(p.get("kind")))
    return said(p) if said else f"记录 {p.get('kind')}（{p.get('on', '')}）"


DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "notice.issue": _notice_issue,
    "notice.delivered": _delivered,
    "notice.render": lambda p: f"信件已生成 {p.get('notice_no', '')}：{p.get('file', '')}",
    "notice.reprint": lambda p: f"信件已重印 {p.get('notice_no', '')}：{p.get('file', '')}" + (
        "，与原件完全一致" if p.get("same_as_original") else
        "，内容与原件一致（压缩方式不同）" if p.get("same_content") else "，与原件不同"),
    "case.open": lambda p: f"立案（{p.get('opened_on', '')} 起逾期）",
    "case.close": lambda p: f"结案（{p.get('closed_on', '')}）",
    "import": _import,
    "unit.update": _changes,
    "charges.replace": _replaced("应收"),
    "payments.replace": _replaced("实收"),
    "run.start": lambda p: _join("开始运行", p.get("command"), f"（操作人 {p.get('os_user', '')}）"),
    "run.end": lambda p: f"运行结束：{run_failure_words(str(p.get('outcome')), p.get('counts') or {})}",
    "run.interrupted": lambda p: f"第 {p.get('run_id', '')} 次运行未正常结束",
    "run.backdated": lambda _p: "按过去的日期运行",
    "ledger.seal": lambda p: f"台账封存摘要（{len(p.get('imports') or [])} 次导入）",
    "ledger.outside_change": _touched,
    "allocation.update": _allocation,
    "callsheet.export": lambda p: f"导出电话催缴表 {p.get('file', '')}（{p.get('units', 0)} 户，含完整电话）",
    "documents.manifest": lambda p: f"文件清单：{p.get('letters', 0)} 封信件",
    "reports.write": lambda p: f"写出报表：{'、'.join(p.get('files') or {})}（记录 SHA-256）",
    "audit.unmask": lambda p: f"查看了未打码的审计记录（{len(p.get('events') or [])} 条）",
}


def describe(kind: str, payload: object) -> str:
    """The event in words; the kind and its fields when there are no words for it yet."""
    data = payload if isinstance(payload, Mapping) else {}
    if kind.startswith("outcome."):
        return _outcome({"kind": kind.removeprefix("outcome."), **data})
    if kind in DESCRIBE:
        return DESCRIBE[kind](data)
    fields = "，".join(f"{FIELD_LABELS.get(key, key)} {shown(key, value)}" for key, value in data.items()
                      if not isinstance(value, dict | list))
    return _join(kind, fields)

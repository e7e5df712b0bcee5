"""``cuijiao record promise|dispute|resolve|hold|call|legal``: what happened, on the record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer

from cuijiao.cli.context import WorkspaceOption, option_date, recorded_run, state, summary
from cuijiao.cli.output import print_json
from cuijiao.dates import parse_period
from cuijiao.errors import BadInput
from cuijiao.money import format_yuan, parse_amount
from cuijiao.outcomes import CALL_OUTCOMES, LEGAL_STEPS, Kind, Outcome
from cuijiao.recording import DELIVERY_METHODS, SIGNER_RELATIONS, Delivery, record, record_delivery

record_app = typer.Typer(help="记录催缴结果：送达、承诺、争议、解决、暂停、通话、法律程序。每条都进入审计记录。",
                         no_args_is_help=True)

UnitArgument = Annotated[str, typer.Argument(metavar="UNIT", help="房号。")]
OnOption = Annotated[str | None, typer.Option("--on", help="发生日期（默认今天）。")]
NoteOption = Annotated[str, typer.Option("--note", help="备注。")]


def register(app: typer.Typer) -> None:
    app.add_typer(record_app, name="record")


def _save(ctx: typer.Context, workspace: Any, command: str, build: Callable[[], tuple[Outcome, str]]) -> None:
    """Parse the options (inside the run, so a bad one is reported like any bad input), check, record."""
    with recorded_run(ctx, workspace, f"record {command}") as (ws, run):
        outcome, said = build()
        saved = record(ws, run, outcome, today=date.today())
        if state(ctx).json:
            print_json({"workspace": str(ws.root), "id": saved.id, "unit_id": saved.unit_id,
                        "kind": saved.kind.value, "on": saved.on.isoformat(),
                        "until": saved.until.isoformat() if saved.until else None,
                        "amount": format_yuan(saved.amount_fen) if saved.amount_fen is not None else None,
                        "covers": saved.detail.get("covers"),
                        "already_recorded": bool(run.counts.get("already_recorded"))})
            return
        if not state(ctx).quiet:
            _show_coverage(saved)
        if run.counts.get("already_recorded"):
            summary(ws, f"此前已记录过：房号 {saved.unit_id} {said}（记录 #{saved.id}），未重复记录")
        else:
            summary(ws, f"已记录：房号 {saved.unit_id} {said}（记录 #{saved.id}）")


def _show_coverage(saved: Outcome) -> None:
    """What a promise or legal step covers, and whether it is evidence for the limitation clock."""
    if "covers" not in saved.detail:
        return
    kind = "承诺" if saved.kind is Kind.PROMISE else "法律程序"
    typer.echo(f"{kind}涵盖：{'、'.join(saved.detail['covers']) or '（无）'}")
    if saved.kind is Kind.PROMISE and not saved.detail.get("evidence"):
        typer.echo("没有证据，不使诉讼时效重新计算（承诺日期前仍暂缓升级催缴）；"
                   "有还款承诺书或通话录音的，请用 --evidence 记录")


def _evidence(text: str | None, what: str) -> str:
    """Evidence given must say something: a blank one is a mistake, not "none"."""
    if text is None:
        return ""
    if not text.strip():
        raise BadInput(f"--evidence 不能为空{what}")
    return text.strip()


def _periods(texts: list[str] | None) -> list[str]:
    result = []
    for text in texts or []:
        try:
            result.append(parse_period(text).label)
        except ValueError as exc:
            raise BadInput(f"--period：{exc}") from None
    return result


EvidenceOption = Annotated[str | None, typer.Option("--evidence", help="证据：签字的还款承诺书编号、通话录音编号等。")]
PeriodOption = Annotated[list[str] | None, typer.Option(
    "--period", help="涵盖的所属期间（可多次给出；也可写范围 2025-01~2025-03）。默认：当日所欠的全部费用。")]
ItemOption = Annotated[list[str] | None, typer.Option("--item", help="涵盖的收费项目（可多次给出）。")]


def _amount(text: str) -> int:
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise BadInput(f"--amount：{exc}") from None


@record_app.command("promise")
def promise(ctx: typer.Context, unit: UnitArgument,
            amount: Annotated[str, typer.Option("--amount", help="承诺缴纳的金额，如 1,200.00。")],
            by: Annotated[str, typer.Option("--by", help="承诺在此日期前缴纳。")],
            on: OnOption = None, note: NoteOption = "", evidence: EvidenceOption = None,
            period: PeriodOption = None, item: ItemOption = None, workspace: WorkspaceOption = None) -> None:
    """业主承诺在某日前缴纳一定金额（到期未缴视为违约，恢复催缴）。有证据的承诺使其涵盖的欠费诉讼时效重新计算。"""

    def build() -> tuple[Outcome, str]:
        fen, until = _amount(amount), option_date(by, "--by")
        detail = {"note": note, "evidence": _evidence(evidence, "：写明还款承诺书编号、通话录音编号等"),
                  "periods": _periods(period), "items": item or []}
        outcome = Outcome(0, unit, Kind.PROMISE, option_date(on, "--on"), until, fen, detail)
        return outcome, f"承诺 {until} 前缴纳 {format_yuan(fen, grouping=True)} 元"

    _save(ctx, workspace, "promise", build)


@record_app.command("dispute")
def dispute(ctx: typer.Context, unit: UnitArgument,
            reason: Annotated[str, typer.Option("--reason", help="争议或投诉的内容。")],
            on: OnOption = None, workspace: WorkspaceOption = None) -> None:
    """业主对服务或费用提出争议（争议未解决前不发律师函）。"""
    _save(ctx, workspace, "dispute", lambda: (
        Outcome(0, unit, Kind.DISPUTE, option_date(on, "--on"), detail={"reason": reason}), f"提出争议：{reason}"))


@record_app.command("resolve")
def resolve(ctx: typer.Context, unit: UnitArgument, note: NoteOption = "", on: OnOption = None,
            workspace: WorkspaceOption = None) -> None:
    """争议已解决。"""
    _save(ctx, workspace, "resolve", lambda: (
        Outcome(0, unit, Kind.RESOLVE, option_date(on, "--on"), detail={"note": note}), "争议已解决"))


@record_app.command("hold")
def hold(ctx: typer.Context, unit: UnitArgument,
         until: Annotated[str, typer.Option("--until", help="暂停至此日期（含）。")],
         reason: Annotated[str, typer.Option("--reason", help="暂停催缴的原因。")],
         on: OnOption = None, workspace: WorkspaceOption = None) -> None:
    """暂停对该户催缴至某日。"""

    def build() -> tuple[Outcome, str]:
        last = option_date(until, "--until")
        outcome = Outcome(0, unit, Kind.HOLD, option_date(on, "--on"), last, detail={"reason": reason})
        return outcome, f"暂停催缴至 {last}：{reason}"

    _save(ctx, workspace, "hold", build)


@record_app.command("call")
def call(ctx: typer.Context, unit: UnitArgument,
         outcome: Annotated[str, typer.Option("--outcome", help=f"通话结果：{'|'.join(CALL_OUTCOMES)}。")],
         note: NoteOption = "", on: OnOption = None, workspace: WorkspaceOption = None) -> None:
    """记录一次催缴电话及其结果（承诺或投诉请另用 record promise / record dispute 记录）。"""

    def build() -> tuple[Outcome, str]:
        detail = {"outcome": outcome, "note": note}
        return Outcome(0, unit, Kind.CALL, option_date(on, "--on"), detail=detail), f"电话：{outcome}"

    _save(ctx, workspace, "call", build)


@record_app.command("legal")
def legal(ctx: typer.Context, unit: UnitArgument,
          step: Annotated[str, typer.Option("--step", help=f"法律程序：{'|'.join(LEGAL_STEPS)}。")],
          evidence: Annotated[str | None, typer.Option("--evidence", help="证据编号，如法院受理通知书文号。")] = None,
          period: PeriodOption = None, item: ItemOption = None,
          on: OnOption = None, workspace: WorkspaceOption = None) -> None:
    """记录申请支付令、起诉、调解或仲裁（所列欠费的诉讼时效自此重新计算；默认：当日所欠的全部费用）。"""

    def build() -> tuple[Outcome, str]:
        proof = _evidence(evidence, "：写明法院受理通知书文号等")
        detail = {"step": step, "evidence": proof, "periods": _periods(period), "items": item or []}
        return (Outcome(0, unit, Kind.LEGAL, option_date(on, "--on"), detail=detail),
                f"{step}（{proof}）" if proof else step)

    _save(ctx, workspace, "legal", build)


@record_app.command("delivered")
def delivered(ctx: typer.Context,
              notice_no: Annotated[str, typer.Argument(metavar="NOTICE_NO", help="通知编号，如 CJ2026-000012。")],
              method: Annotated[str, typer.Option("--method", help=f"送达方式：{'|'.join(DELIVERY_METHODS)}。")],
              on: OnOption = None,
              signer: Annotated[str, typer.Option("--signer", help="签收人姓名。")] = "",
              relation: Annotated[
                  str, typer.Option("--relation", help=f"签收人与业主的关系：{'|'.join(SIGNER_RELATIONS)}。")
              ] = "",
              evidence: Annotated[str | None, typer.Option(
                  "--evidence", help="证据：EMS 邮件号、签收单编号、电子送达的消息编号、公告的报刊及日期等。")] = None,
              workspace: WorkspaceOption = None) -> None:
    """记录通知已送达（有送达证据的催缴才使诉讼时效重新计算）。"""
    with recorded_run(ctx, workspace, "record delivered") as (ws, run):
        delivery = Delivery(notice_no, option_date(on, "--on"), method, signer, relation, _evidence(evidence, ""))
        delivery_id = record_delivery(ws, run, delivery, today=date.today())
        if state(ctx).json:
            print_json({"workspace": str(ws.root), "id": delivery_id, "notice_no": notice_no,
                        "on": delivery.on.isoformat(), "method": method})
            return
        summary(ws, f"已记录：通知 {notice_no} 于 {delivery.on} 以{method}送达（记录 #{delivery_id}）")

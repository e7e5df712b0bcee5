"""Typer's and Click's own words in Chinese: help pages and usage errors.

Typer vendors Click without gettext, so there is no catalogue to install. The
texts are translated here, in one place, where they leave the library: every
help page and usage line passes through :class:`ChineseContext`, and every usage
error is caught by :class:`CuijiaoGroup` (the root command) and shown by
:func:`show_usage_error`. A test asks for help, a bad option, a missing argument
and a bad value, and fails on any English word left.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.cells import cell_len
from typer.core import TyperGroup

from cuijiao.cli.context import report_error
from cuijiao.cli.output import print_json
from cuijiao.errors import CuijiaoError, Interrupted
from cuijiao.fileio import os_problem


def _fit(label: str) -> Callable[[re.Match[str]], str]:
    """A metavar replaced in a help column: padded or trimmed to the width it had, so columns stay aligned."""

    def replace(match: re.Match[str]) -> str:
        spaces = len(match.group(0)) - len(match.group(0).rstrip(" "))
        width = cell_len(match.group(0)) - spaces
        keep = max(spaces + width - cell_len(label), 1) if spaces else 0
        return label + " " * keep

    return replace


# Metavars the commands declare (metavar="UNIT"), and what a clerk reads instead.
# An argument declared without one shows its parameter name: those are here too.
METAVARS = {"UNIT": "房号", "NOTICE_NO": "通知编号", "FILE": "文件", "DIR": "目录", "N:HASH": "事件数:哈希",
            "notice_no": "通知编号", "directory": "目录", "files": "文件", "unit_id": "房号"}

# Whole texts and fragments of help pages, in the order they are replaced.
_HELP: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"^Usage: ", re.M), "用法："),
    (re.compile(r"\[OPTIONS\]"), "[选项]"),
    (re.compile(r"COMMAND \[ARGS\]\.\.\."), "命令 [参数]..."),
    (re.compile(r"\{([^{}\s]+)\}"), r"\1"),  # Typer writes a required argument {NAME}
    (re.compile(r"^(\s*)Arguments:?$", re.M), r"\1参数："),
    (re.compile(r"^(\s*)Options:?$", re.M), r"\1选项："),
    (re.compile(r"^(\s*)Commands:?$", re.M), r"\1命令："),
    (re.compile(r"Show this message and exit\."), "显示本帮助并退出。"),
    (re.compile(r"\[default:\s+([^\]]*)\]"), lambda m: f"［默认：{' '.join(m.group(1).split())}］"),
    (re.compile(r"\[env var:\s+([^\]]*)\]"), lambda m: f"［环境变量：{' '.join(m.group(1).split())}］"),
    (re.compile(r"\[required\]"), "［必填］"),
    (re.compile(r"\(dynamic\)"), "（动态）"),
    (re.compile(r"\(deprecated\)"), "（已停用）"),
    (re.compile(r"(?:<(?:int|integer) range>|<(?:int|integer)>|\bINTEGER(?: RANGE)?\b) *"), _fit("<整数>")),
    (re.compile(r"(?:<(?:float|number)(?: range)?>|\bFLOAT(?: RANGE)?\b) *"), _fit("<数字>")),
    (re.compile(r"(?:<(?:path|file|filename)>|\bPATH\b|\bFILENAME\b) *"), _fit("<路径>")),
    (re.compile(r"(?:<(?:bool|boolean)>|\bBOOLEAN\b) *"), _fit("<是/否>")),
    (re.compile(r"(?:<(?:list\[)?(?:str|text)\]?>|\bTEXT\b) *"), _fit("<文本>")),
    (re.compile(r"<list\[(?:Path|path)\]> *"), _fit("<路径>")),
    # our own metavars, written in ASCII so that Click measures their columns right
    *((re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-]) *"), _fit(label)) for name, label in METAVARS.items()),
)

# Messages of usage errors (the part after "Error: "), translated whole.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^No such option: (\S+?)(?:\s*\(Possible options: (.*)\))?$", re.S), "没有这个选项：{0}{1}"),
    (re.compile(r"^No such command '([^']*)'\.?(?: Did you mean (.*)\?)?$", re.S), "没有这个命令：{0}{1}"),
    (re.compile(r"^Missing command\.?$"), "缺少命令"),
    (re.compile(r"^Option '([^']*)' requires an argument\.?$"), "选项 {0} 需要一个值"),
    (re.compile(r"^Option '([^']*)' requires (\d+) arguments\.?$"), "选项 {0} 需要 {1} 个值"),
    (re.compile(r"^Option '([^']*)' does not take a value\.?$"), "选项 {0} 不带值"),
    (re.compile(r"^Argument '([^']*)' takes (\d+) values\.?$"), "参数 {0} 需要 {1} 个值"),
    (re.compile(r"^Got unexpected extra arguments?(?:\(s\))? \((.*)\)$", re.S), "多余的参数：{0}"),
    (re.compile(r"^Value '(.*)' is not a valid (?:integer|int)\.?$", re.S), "“{0}”不是整数"),
    (re.compile(r"^Value '(.*)' is not a valid (?:float|number)\.?$", re.S), "“{0}”不是数字"),
    (re.compile(r"^Value '(.*)' is not a valid (?:boolean|bool)\.?$", re.S), "“{0}”不是 是/否"),
    (re.compile(r"^Value '(.*)' is not a valid (\w+)\.?$", re.S), "“{0}”格式不对"),
    (re.compile(r"^'(.*)' is not one of (.*)\.$", re.S), "“{0}”不是可选的值（可选：{1}）"),
    (re.compile(r"^(?:File|Path|Directory) '(.*)' does not exist\.?$", re.S), "找不到 {0}"),
    (re.compile(r"^(?:File|Path|Directory) (.*) is not readable\.?$", re.S), "{0} 无法读取"),
    (re.compile(r"^(?:File|Path|Directory) (.*) is not writable\.?$", re.S), "{0} 无法写入"),
    (re.compile(r"^(.*) is not in the range (.*)\.?$", re.S), "{0} 超出范围（应为 {1}）"),
    (re.compile(r"^Input should be greater than or equal to (\S+?)\.?$"), "应不小于 {0}"),
    (re.compile(r"^Input should be greater than (\S+?)\.?$"), "应大于 {0}"),
    (re.compile(r"^Input should be less than or equal to (\S+?)\.?$"), "应不大于 {0}"),
    (re.compile(r"^Input should be less than (\S+?)\.?$"), "应小于 {0}"),
    (re.compile(r"^Input should be a valid (?:integer|int)\b.*$", re.S), "应为整数"),
    (re.compile(r"^Input should be a valid (?:number|float|decimal)\b.*$", re.S), "应为数字"),
    (re.compile(r"^Input should be a valid (?:boolean|bool)\b.*$", re.S), "应为是/否（true/false）"),
    (re.compile(r"^Input should be (.*)$", re.S), "应为 {0}"),
)


def help_text(text: str) -> str:
    """A help page or usage line with Click's words in Chinese."""
    for pattern, replacement in _HELP:
        text = pattern.sub(replacement, text)
    return text


def message_text(message: str) -> str:
    """One of Click's or Typer's error messages in Chinese; an unknown one is left as it is."""
    message = message.strip().removeprefix("Value error, ")
    for pattern, template in _MESSAGES:
        match = pattern.match(message)
        if match:
            return template.format(*(_tail(pattern, match, index) for index in range(pattern.groups)))
    return message


def _tail(pattern: re.Pattern[str], match: re.Match[str], index: int) -> str:
    value = match.group(index + 1) or ""
    if pattern.pattern.startswith("^No such option") and index == 1 and value:
        return f"。是不是要输入：{value}"
    if pattern.pattern.startswith("^No such command") and index == 1 and value:
        return "。是不是要输入：" + value.replace("'", "")
    if pattern.pattern.startswith("^'(.*)' is not one of") and index == 1:
        return value.replace("'", "")
    return value


def error_message(exc: Exception) -> str:
    """The Chinese message of a usage error, by its kind."""
    from typer._click import exceptions as errors  # noqa: PLC0415 - Typer's vendored Click

    if isinstance(exc, errors.MissingParameter):
        param_type = str(exc.param_type or getattr(exc.param, "param_type_name", ""))
        kind = {"option": "选项", "argument": "参数"}.get(param_type, "参数")
        choices = getattr(exc.param, "get_missing_message", lambda _ctx: "")(exc.ctx) if exc.param else ""
        listed = "、".join(line.strip(" \t,") for line in (choices or "").splitlines()[1:])
        return f"缺少{kind} {_param_hint(exc)}" + (f"（可选：{listed}）" if listed else "")
    if isinstance(exc, errors.NoSuchOption):
        found = f"。是不是要输入：{'、'.join(sorted(exc.possibilities))}" if exc.possibilities else ""
        return f"没有这个选项：{exc.option_name}{found}"
    if isinstance(exc, errors.BadParameter):
        hint = _param_hint(exc)
        said = message_text(exc.message)
        return f"{hint} 的值无效：{said}" if hint else f"值无效：{said}"
    return message_text(getattr(exc, "message", str(exc)))


def _param_hint(exc: Any) -> str:
    hint = exc.param_hint
    if hint is None and exc.param is not None:
        opts = getattr(exc.param, "opts", None)
        hint = opts if opts and getattr(exc.param, "param_type_name", "") == "option" else getattr(
            exc.param, "display_name_raw", exc.param.name)
    if isinstance(hint, list | tuple):
        hint = " / ".join(str(h) for h in hint)
    return help_text(str(hint or "")).replace("'", "")


def show_usage_error(exc: Exception, *, as_json: bool) -> None:
    """Usage, a hint and the error, as Click would show them, in Chinese (or a JSON object)."""
    message = error_message(exc)
    if as_json:
        print_json({"error": message, "problems": []})
        return
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        typer.echo(help_text(ctx.get_usage()), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            typer.echo(f"运行 {ctx.command_path} {ctx.help_option_names[0]} 查看帮助。", err=True)
        typer.echo("", err=True)
    typer.echo(f"错误：{message}", err=True)


class ChineseContext(typer.Context):
    """A context whose help page and usage line are in Chinese."""

    def get_help(self) -> str:
        return help_text(super().get_help())

    def get_usage(self) -> str:
        return help_text(super().get_usage())


def _chinese_contexts(command: Any) -> None:
    command.context_class = ChineseContext
    for sub in getattr(command, "commands", {}).values():
        _chinese_contexts(sub)


# Flags of the root command a clerk may also write after the command name.
GLOBAL_FLAGS = ("--json", "--quiet", "-q")


def global_flags_first(argv: list[str]) -> list[str]:
    """``cuijiao aging --json`` means ``cuijiao --json aging``: the global flags move to the front."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [word for word in argv[:end] if word in GLOBAL_FLAGS]
    return [*flags, *(word for word in argv[:end] if word not in GLOBAL_FLAGS), *argv[end:]]


class CuijiaoGroup(TyperGroup):
    """The root command: every context Chinese, every usage error caught and shown in Chinese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _chinese_contexts(self)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, windows_expand_args: bool = True,
             **extra: Any) -> Any:
        from typer._click import exceptions as errors  # noqa: PLC0415 - Typer's vendored Click

        argv = global_flags_first(list(sys.argv[1:] if args is None else args))
        try:
            result = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except errors.NoArgsIsHelpError as exc:
            typer.echo(exc.format_message(), err=True)
            code = 2
        except errors.ClickException as exc:
            show_usage_error(exc, as_json="--json" in argv)
            code = exc.exit_code
        except typer.Abort:
            typer.echo("已中止", err=True)
            code = 1
        except OSError as exc:  # a path the system refused (-o, --inbox, a folder): one line, not a traceback
            report_error(CuijiaoError(os_problem(exc)), as_json="--json" in argv)
            code = 1
        except Interrupted as exc:  # a signal landing past the command's own handlers (entering __exit__):
            typer.echo(str(exc), err=True)  # on stderr as they say it, even under --json (the answer may be out)
            code = exc.exit_code
        else:
            code = result if isinstance(result, int) else 0
            if not standalone_mode:
                return result
        if not standalone_mode:
            raise typer.Exit(code)
        sys.exit(code)

"""The command line's edge: usage errors, the one broad error handler (every error a message and a
documented exit code, JSON too with ``--output json``), the confirmation prompt, and flags as config
keys. Like cli.py, it imports typer and nothing that imports boto3 at module level."""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup

from bootstrap.cli.help import CONFIG_FIELD
from bootstrap.cli.options import Output
from bootstrap.core.errors import BootstrapError, Interrupted, InvalidInput, NotConfirmed, error_document

if TYPE_CHECKING:
    from bootstrap.core.plan import Plan

_ARGS_KEY = "trust_bootstrap.args"


def _wants_json(args: list[str]) -> bool:
    pairs = zip(args, [*args[1:], ""], strict=True)
    return any((a in ("--output", "-o") and b == "json") or a in ("--output=json", "-ojson") for a, b in pairs)


class Commands(TyperGroup):
    """Usage errors (an unknown flag, a value of the wrong type) keep the exit-code contract too:
    1 under ``plan --detailed-exitcode`` (where 2 means drift), and one JSON document with
    ``--output json``."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        raw = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[_ARGS_KEY] = raw
        return ctx

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as err:
            # typer vendors its own click: know its UsageError (and BadParameter...) by name.
            if not any(k.__name__ == "UsageError" for k in type(err).__mro__):
                raise
            raw: list[str] = ctx.meta.get(_ARGS_KEY, [])
            if raw[:1] == ["plan"] and "--detailed-exitcode" in raw:
                err.exit_code = 1  # type: ignore[attr-defined]
            if _wants_json(raw):
                usage = BootstrapError(err.format_message())  # type: ignore[attr-defined]
                usage.kind = "usage"
                typer.echo(json.dumps(error_document(usage, err.exit_code), indent=2))  # type: ignore[attr-defined]
            raise


# Colour, for people at a terminal: the plan's + ~ - ! lines, errors, warnings, the proof's verdict.
# Never with NO_COLOR set to anything but "" (https://no-color.org), nor when the stream is not a
# terminal (a pipe, a file, CI's log): the text is then exactly the same, without escape codes.
_STYLES = (
    (re.compile(r"^\s*\+ "), {"fg": "green"}),
    (re.compile(r"^\s*- "), {"fg": "red"}),
    (re.compile(r"^\s*[~!] "), {"fg": "yellow"}),
    (re.compile(r"^(Error|Internal error): "), {"fg": "red", "bold": True}),
    (re.compile(r"^Warning: "), {"fg": "yellow"}),
    (re.compile(r"^Verified: +NO"), {"fg": "red", "bold": True}),
    (re.compile(r"^Verified: +arn:"), {"fg": "green"}),
)


def colour_on(err: bool = False) -> bool:
    """Whether output to stdout (stderr with ``err``) is coloured: a terminal, and no NO_COLOR."""
    stream = sys.stderr if err else sys.stdout
    return not os.environ.get("NO_COLOR") and stream.isatty()


def _paint(line: str) -> str:
    for pattern, style in _STYLES:
        if pattern.match(line):
            return typer.style(line, **style)
    return line


def say(text: str, err: bool = False) -> None:
    """Show text meant for people, coloured where colour_on says so."""
    if colour_on(err):
        text = "\n".join(_paint(line) for line in text.split("\n"))
    typer.echo(text, err=err)


def echo_err(message: str) -> None:
    say(message, err=True)


def fail(code: int) -> NoReturn:
    """End the command with this exit code (0 too: a fleet run ends its command either way)."""
    raise typer.Exit(code)


def _as_error(err: Exception) -> BootstrapError:
    """A botocore failure that escaped the steps still gets its own kind and exit code; anything
    else unexpected is a bug (exit 1)."""
    if isinstance(err, BootstrapError):
        return err
    if type(err).__module__.split(".")[0] in ("botocore", "boto3", "urllib3"):
        from bootstrap.aws import errors as aws_errors  # botocore is loaded already: one of its errors was raised

        mapped = aws_errors.classify(err, "an AWS call")
        if mapped is not None:
            return mapped
    return BootstrapError(
        f"Internal error: {type(err).__name__}: {err}. Re-run with --debug for a traceback, and report it."
    )


@contextmanager
def edge(debug: bool, error_code: Callable[[int], int] = lambda c: c, output: Output = Output.text) -> Iterator[None]:
    """The one broad handler: every error becomes a message and a documented exit code; with
    ``--output json`` also one JSON document on stdout ({"error": {...}})."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        message = "Interrupted. Whatever was written so far stays; re-run the same command to finish (it converges)."
        _report(Interrupted(message), error_code, output, prefix="")
    except Exception as err:
        if debug:
            traceback.print_exc()
        error = _as_error(err)
        _report(error, error_code, output, prefix="" if error.message.startswith("Internal error") else "Error: ")


def _report(error: BootstrapError, error_code: Callable[[int], int], output: Output, prefix: str) -> NoReturn:
    code = error_code(int(error.exit_code))
    echo_err(f"{prefix}{error.message}")
    if output is Output.json:
        typer.echo(json.dumps(error_document(error, code), indent=2))
    fail(code)


def config_keys(**values: Any) -> dict[str, Any]:
    """The options the user actually gave, under their config-file keys."""
    return {CONFIG_FIELD.get(k, k): v for k, v in values.items() if v is not None}


def confirmer(yes: bool) -> Callable[[Plan | None], bool]:
    def confirm(plan: Plan | None) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise NotConfirmed(
                "Refusing to write without confirmation in a non-interactive run: review the plan above, then "
                "re-run with --yes. Nothing was written."
            )
        return typer.confirm("Make these changes?", default=False, err=True)

    return confirm


def code_asker(serial: str | None) -> Callable[[], str] | None:
    """Asks at the terminal for the current code of the MFA device ``serial`` (the workflow calls it
    just before the proof spends the code); None without a device or a terminal (the workflow then
    refuses before any write, naming --mfa-token)."""
    if serial is None or not sys.stdin.isatty():
        return None

    def six_digits(value: str) -> str:
        from bootstrap.core import arns

        try:
            return arns.check_mfa_token(value.strip())
        except ValueError as err:
            raise typer.BadParameter(str(err)) from err  # click asks again

    def ask() -> str:
        try:
            code: str = typer.prompt(
                f"MFA code (6 digits) for {serial}", hide_input=True, err=True, value_proc=six_digits
            )
        except typer.Abort:  # Ctrl-C or end of input at the prompt: an interruption like any other
            raise KeyboardInterrupt from None
        return code

    return ask


def check_account(value: str, flag: str = "--target-account") -> None:
    from bootstrap.core import arns

    try:
        arns.check_account_id(value)
    except ValueError as err:
        raise InvalidInput(f"{flag}: {err}.") from err

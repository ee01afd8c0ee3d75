"""Progress on stderr: rich's live status and progress bar on a terminal, a plain line per step
otherwise (CI logs). rich comes with typer; it is imported only when a terminal shows progress, so
``--help`` and non-interactive runs never pay for it."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bootstrap.core.results import ProgressEvent


def _console(stream: TextIO) -> Any:
    from rich.console import Console

    return Console(file=stream, stderr=stream is sys.stderr)


class Spinner:
    """``with Spinner("waiting for IAM propagation") as s: ... s.attempt(n)``: a spinner with the
    elapsed time and the attempt number on a terminal; one line in a log."""

    def __init__(self, text: str, stream: TextIO | None = None) -> None:
        self.text = text
        self.stream = stream or sys.stderr
        self.attempts = 1
        self._tty = self.stream.isatty()
        self._live: Any = None
        self._task: Any = None

    def attempt(self, number: int, _elapsed: float = 0.0) -> None:
        self.attempts = number + 1
        if self._live is not None:
            self._live.update(self._task, attempt=self.attempts)

    def __enter__(self) -> Spinner:
        if not self._tty:
            self.stream.write(f"{self.text}...\n")
            self.stream.flush()
            return self
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TextColumn("attempt {task.fields[attempt]}"),
            console=_console(self.stream),
            transient=True,  # the summary that follows says how long it took
        )
        self._task = self._live.add_task(self.text, total=None, attempt=self.attempts)
        self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()


def status(message: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write(message + "\n")
    out.flush()


class Reporter:
    """Shows what a workflow reports (``on_progress``): each write made as a line, a wait as a
    spinner, a failed verification's diagnose checks as their findings, a fleet's targets as a
    progress bar (a line per target event in a log)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._spinner: Spinner | None = None
        self._fleet: FleetProgress | None = None

    def __call__(self, event: ProgressEvent) -> None:
        from bootstrap.core import results
        from bootstrap.exports.render import text as render

        match event:
            case results.Done(change):
                status(f"  done: {change.said}", self.stream)
            case results.Waiting(what):
                self._spinner = Spinner(what, self.stream).__enter__()
            case results.Attempt(number) if self._spinner is not None:
                self._spinner.attempt(number)
            case results.Waited() if self._spinner is not None:
                self._spinner.__exit__(None, None, None)
                self._spinner = None
            case results.Diagnosed(role_arn, principal_arn, findings):
                status("Verification failed; walking the diagnose checks:", self.stream)
                status(render.findings_text(role_arn, principal_arn, findings), self.stream)
            case results.TargetsStarted(total):
                self._fleet = FleetProgress(total, self.stream)
            case results.TargetEvent(label, what) if self._fleet is not None:
                self._fleet(label, what)
            case results.TargetsEnded() if self._fleet is not None:
                self._fleet.close()
                self._fleet = None


def _count(states: list[str]) -> tuple[int, int, int]:
    done = sum(s.startswith(("verified", "done", "planned")) for s in states)
    failed = sum(s.startswith(("failed", "left alone")) for s in states)
    waiting = sum(s.startswith("waiting") for s in states)
    return done, failed, waiting


class FleetProgress:
    """Targets done / failed / waiting on propagation: a progress bar on a terminal, or a line per
    event in a log. Called from worker threads."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self._tty = self.stream.isatty()
        self._lock = threading.Lock()
        self._state: dict[str, str] = {}
        self._bar: Any = None
        self._task: Any = None
        if self._tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("targets"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed, {task.fields[waiting]} waiting on propagation"),
                TimeElapsedColumn(),
                console=_console(self.stream),
            )
            self._task = self._bar.add_task("targets", total=total, failed=0, waiting=0)
            self._bar.start()

    def __call__(self, label: str, what: str) -> None:
        with self._lock:
            self._state[label] = what
            if self._bar is None:
                self.stream.write(f"  [{label}] {what}\n")
                self.stream.flush()
                return
            done, failed, waiting = _count(list(self._state.values()))
            self._bar.update(self._task, completed=done + failed, failed=failed, waiting=waiting)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

"""Progress on stderr: a spinner on a terminal, a plain line per step otherwise (CI logs)."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Spinner:
    """``with Spinner("waiting for IAM propagation") as s: ... s.attempt(n)``"""

    def __init__(self, text: str, stream: TextIO | None = None) -> None:
        self.text = text
        self.stream = stream or sys.stderr
        self.attempts = 1
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tty = self.stream.isatty()

    def attempt(self, number: int, _elapsed: float = 0.0) -> None:
        self.attempts = number + 1

    def _line(self, frame: str) -> str:
        elapsed = time.monotonic() - self._started
        return f"\r{frame} {self.text}: {elapsed:4.1f}s, attempt {self.attempts}"

    def _spin(self) -> None:
        for frame in itertools.cycle(FRAMES):
            if self._stop.wait(0.1):
                return
            self.stream.write(self._line(frame))
            self.stream.flush()

    def __enter__(self) -> Spinner:
        if self._tty:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        else:
            self.stream.write(f"{self.text}...\n")
            self.stream.flush()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\033[K")
            self.stream.flush()


def status(message: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write(message + "\n")
    out.flush()


class FleetProgress:
    """Targets done / failed / waiting on propagation, on one line of a terminal, or a line per
    event in a log. Called from worker threads."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self._tty = self.stream.isatty()
        self._lock = threading.Lock()
        self._state: dict[str, str] = {}

    def __call__(self, label: str, what: str) -> None:
        with self._lock:
            self._state[label] = what
            if not self._tty:
                self.stream.write(f"  [{label}] {what}\n")
            else:
                states = list(self._state.values())
                done = sum(s.startswith(("verified", "done", "planned")) for s in states)
                failed = sum(s.startswith(("failed", "left alone")) for s in states)
                waiting = sum(s.startswith("waiting") for s in states)
                self.stream.write(
                    f"\r\033[K{done} done, {failed} failed, {waiting} waiting on propagation, of {self.total} targets"
                )
            self.stream.flush()

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()

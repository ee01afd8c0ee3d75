"""Fault injection and gates for the sandbox: what a failing or slow AWS answers, and held calls.

A Fault fails the next calls of an operation (throttling, 5xx, a dropped connection, an HTML page,
a body that is no AWS answer); a Gate holds every call of one operation until a test releases it,
so races are lined up by events, not by time.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def error_xml(code: str, message: str) -> bytes:
    # Messages quote request values (a session name, a tag): escaped, or the answer is no XML.
    message = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>sandbox-referee</RequestId></ErrorResponse>"
    ).encode()


# What an injected fault answers: HTTP status and message. "reset" drops the connection instead;
# "delay" only slows the call down; "html" answers an HTML 500 page and "garbage" a 200 whose
# body is no AWS response at all (what a proxy or a half-implemented endpoint may send).
FAULT_STATUS = {
    "Throttling": (400, "Rate exceeded"),
    "ThrottlingException": (400, "Rate exceeded"),
    "ServiceFailure": (500, "The request processing has failed because of an unknown error."),
    "InternalFailure": (500, "An internal error occurred."),
    "ServiceUnavailable": (503, "Service is unavailable."),
    # What IAM answers for a trust policy naming a principal created moments ago.
    "MalformedPolicyDocument": (400, "Invalid principal in policy: the principal is not yet known"),
}


BODY_FAULTS = ("reset", "delay", "html", "garbage")
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
    b"<h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>"
)


@dataclass
class Fault:
    """Fail the next ``count`` calls of ``operation`` ('*': any) with ``code``, after ``delay`` s."""

    operation: str
    code: str
    count: int
    delay: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Fault:
        """OPERATION:CODE:COUNT[:DELAY], e.g. CreateRole:Throttling:2 or *:ServiceFailure:1."""
        parts = text.split(":")
        if len(parts) not in (3, 4) or not parts[2].isdigit():
            raise ValueError(f"'{text}' is not OPERATION:CODE:COUNT[:DELAY_SECONDS]")
        if parts[1] not in FAULT_STATUS and parts[1] not in BODY_FAULTS:
            raise ValueError(f"unknown fault code '{parts[1]}': one of {', '.join([*FAULT_STATUS, *BODY_FAULTS])}")
        return cls(parts[0], parts[1], int(parts[2]), float(parts[3]) if len(parts) == 4 else 0.0)


class Gate:
    """Holds every call of one operation until released, so a test can line up a race by events
    (both callers have arrived) instead of by guessing how long each takes."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self._arrived = 0
        self._cond = threading.Condition()
        self._open = threading.Event()

    def pass_through(self) -> None:
        with self._cond:
            self._arrived += 1
            self._cond.notify_all()
        self._open.wait(timeout=120)  # never hang a server thread for good

    def wait_for(self, callers: int, timeout: float = 120) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._arrived >= callers, timeout=timeout)

    def release(self) -> None:
        self._open.set()


def answer(
    fault: Fault, environ: Environ, start_response: StartResponse, record: Callable[[int, str], None]
) -> Iterable[bytes]:
    """Answer a call with an injected fault. ``record(status, note)`` logs it first, before the
    client can see the answer (a test reading the log right after its call finds it there)."""
    if fault.delay:
        time.sleep(fault.delay)
    if fault.code == "reset":
        record(0, "injected: connection reset")
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        return []
    if fault.code == "html":
        record(500, "injected: html")
        start_response("500 Internal Server Error", [("Content-Type", "text/html")])
        return [HTML_PAGE]
    if fault.code == "garbage":
        record(200, "injected: garbage")
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"\x00\x01 not <an aws> response {"]
    status, message = FAULT_STATUS[fault.code]
    record(status, f"injected: {fault.code}")
    reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "text/xml")])
    return [error_xml(fault.code, message)]

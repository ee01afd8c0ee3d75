"""A local two-account AWS: moto in server mode, plus what moto lacks for cross-account IAM work.

moto serves IAM and STS over HTTP with IAM authorization enforced. In front of it sits a small WSGI
layer that
- judges every AssumeRole against the role's trust policy (moto skips this cross-account) with the
  independent referee in ``referee.py``, including ExternalId and MFA;
- makes a role unassumable for ``propagation_delay`` seconds after it is created or its trust policy
  changes, as real IAM does;
- keeps a log of every request (account, service, operation, status) for tests and the benchmark.

The tool under test needs no emulator-specific code: it reaches this server through ordinary AWS
profiles whose ``endpoint_url`` points here.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import os
import secrets
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sts.models import sts_backends
from werkzeug.serving import make_server

from bootstrap import safewrite
from bootstrap.sandbox import delegated, orgscope, quotas, web_identity
from bootstrap.sandbox.oidc_issuer import Issuer
from bootstrap.sandbox.referee import Caller, Request, Verdict, judge

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
MANAGEMENT_ACCOUNT = "000000000000"  # the organization's management account, when seeded
ACCESS_ROLE = "OrganizationAccountAccessRole"
REGION = "us-east-1"

WRITE_PREFIXES = (
    "Create",
    "Put",
    "Attach",
    "Detach",
    "Delete",
    "Update",
    "Tag",
    "Untag",
    "Add",
    "Remove",
    "Set",
    "Upload",
)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Call:
    """One request the sandbox served."""

    account: str
    service: str
    operation: str
    status: int
    caller: str
    note: str = ""
    # When the sandbox received the request and when it answered (time.monotonic(), the added
    # latency included): calls whose spans overlap went out together (see sequential_rounds).
    started: float = 0.0
    ended: float = 0.0
    params: tuple[tuple[str, str], ...] = ()  # the request parameters the log keeps (delegated.RECORDED_PARAMS)

    @property
    def is_write(self) -> bool:
        return self.operation.startswith(WRITE_PREFIXES)


@dataclass(frozen=True)
class Profile:
    name: str
    account: str
    access_key_id: str
    secret_access_key: str


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


@dataclass
class _State:
    propagation_delay: float = 0.0
    latency: float = 0.0  # seconds added to every call, like the round trip to a real endpoint
    faults: list[Fault] = field(default_factory=list)
    gates: dict[str, Gate] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # (account, role name) -> monotonic time of its creation or last trust-policy change
    role_changed: dict[tuple[str, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    issuer: Issuer | None = None  # the sandbox's OIDC issuer (oidc_issuer.py)
    # moto's /moto-api/* (data.json lists every key and secret; reset-auth turns authorization off)
    # answers only requests that carry this, which only the Sandbox object that started it knows.
    control_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)


CONTROL_HEADER = "X-Sandbox-Control"
_STARTED_KEY = "sandbox.started"  # the environ key holding when a request arrived


def _error_xml(code: str, message: str) -> bytes:
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>sandbox-referee</RequestId></ErrorResponse>"
    ).encode()


def _access_key_of(environ: Environ) -> tuple[str, str]:
    """(access key id, service) from a SigV4 Authorization header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) < 4:
        return "", ""
    return scope[0], scope[3]


def _session_of(access_key: str) -> Any:
    for sts in list(sts_backends.values()):
        session = sts["aws"].get_assumed_role_from_access_key(access_key)
        if session is not None:
            return session
    return None


def _find_caller(access_key: str) -> Caller | None:

    for account_id, backends in list(iam_backends.items()):
        user = backends["aws"].get_user_from_access_key_id(access_key)
        if user is not None:
            return Caller(account=account_id, principal_arn=user.arn, temporary=False, user_id=user.id)
    for account_id, sts in list(sts_backends.items()):
        session = sts["aws"].get_assumed_role_from_access_key(access_key)
        if session is not None:
            return Caller(account_id, session.role_arn, True, user_id=session.user_id, session_arn=session.arn)
    return None


def _find_role(role_arn: str) -> Any:

    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit() or parts[4] not in iam_backends:
        return None
    for role in list(iam_backends[parts[4]]["aws"].roles.values()):
        if role.arn == role_arn:
            return role
    return None


def _leave_trust_to_the_referee() -> None:
    """moto's own same-account trust check compares principal ARNs exactly, so a role trusting
    arn:aws:iam::A:root refuses a user of A, which AWS allows. Every AssumeRole is judged by the
    referee before moto sees it (SandboxApp), so moto's check is switched off; moto still checks
    the caller's own identity policies (sts:AssumeRole on the role)."""
    from moto.iam import access_control  # noqa: PLC0415

    def trusted(self: Any, role_arn: str) -> bool:
        return True

    access_control.IAMRequestBase._check_role_trust_relationship = trusted  # type: ignore[method-assign]


class SandboxApp:
    """WSGI layer in front of moto: referee, propagation delay, request log."""

    def __init__(self, inner: WsgiApp, state: _State) -> None:
        self._inner = quotas.Enforcer(inner, _error_xml)
        self._state = state

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:  # noqa: PLR0912 (each branch is one documented sandbox behaviour)
        environ[_STARTED_KEY] = time.monotonic()
        if self._state.latency:
            time.sleep(self._state.latency)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        # Query protocol (IAM, STS) names the operation in the body; JSON protocol in a header.
        operation = params.get("Action") or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        access_key, service = _access_key_of(environ)
        caller = self._caller(access_key) if access_key else None
        account = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or (caller.account if caller else "")

        fault = self._take_fault(operation) if operation else None
        if fault is not None and fault.code == "delay":
            time.sleep(fault.delay)  # then served as usual: a slow call, not a failed one
        elif fault is not None:
            return self._answer_fault(
                fault, environ, start_response, Call(account, service, operation, 0, "", "injected")
            )

        if caller is not None and caller.temporary and self._expired(access_key):
            self._record(Call(account, service, operation, 403, caller.principal_arn, "expired session"), environ)
            start_response("403 Forbidden", [("Content-Type", "text/xml")])
            return [_error_xml("ExpiredToken", "The security token included in the request is expired")]

        if service == "sts" and operation == "AssumeRole" and caller is not None:
            verdict = self._referee(caller, params, access_key)
            if not verdict.allowed:
                message = (
                    f"User: {caller.principal_arn} is not authorized to perform: "
                    f"sts:AssumeRole on resource: {params.get('RoleArn', '')}"
                )
                if verdict.code == "ValidationError":
                    message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                self._record(Call(account, service, operation, 403, caller.principal_arn, verdict.reason), environ)
                start_response(
                    "400 Bad Request" if verdict.code == "ValidationError" else "403 Forbidden",
                    [("Content-Type", "text/xml")],
                )
                return [_error_xml(verdict.code, message)]

        answered = self._oidc_hook(environ, body, params, account, start_response)
        if answered is not None:
            return answered

        held: list[tuple[str, Any]] = []

        def holding_start_response(status: str, headers: Any, *args: Any) -> Any:
            held.append((status, headers))  # sent below, once we know what to answer
            return lambda data: None

        environ[quotas.ACCOUNT_KEY] = account  # for IAM's size quotas, checked in front of moto
        try:
            chunks = list(self._inner(environ, holding_start_response))  # moto answers in one piece
            status_line, headers = held[0] if held else ("500 Internal Server Error", [])
        except NotImplementedError:
            # An operation moto lacks: answer as AWS does for an unsupported call, with a code
            # clients recognise and do not retry (moto itself would crash into an HTML page).
            message = f"{operation} is not available in the sandbox"
            status_line = "501 Not Implemented"
            if environ.get("HTTP_X_AMZ_TARGET"):  # JSON protocol
                headers = [("Content-Type", "application/x-amz-json-1.1")]
                chunks = [json.dumps({"__type": "NotImplemented", "message": message}).encode()]
            else:
                headers, chunks = [("Content-Type", "text/xml")], [_error_xml("NotImplemented", message)]
        status = int(status_line.split(maxsplit=1)[0])
        if service and operation:
            self._record(Call(account, service, operation, status, caller.principal_arn if caller else "",
                              params=delegated.request_params(params)), environ)  # fmt: skip
        if status == 200 and service == "iam" and operation in ("CreateRole", "UpdateAssumeRolePolicy"):
            with self._state.lock:
                self._state.role_changed[(account, params.get("RoleName", ""))] = time.monotonic()
        start_response(status_line, headers)
        return chunks

    def _caller(self, access_key: str) -> Caller | None:
        """Who signs with this key. A key never changes hands, so answers are kept (until reset):
        the lookup walks every user of every account."""
        with self._state.lock:
            known = self._state.callers.get(access_key)
        if known is None:
            known = _find_caller(access_key)
            if known is not None:
                with self._state.lock:
                    self._state.callers[access_key] = known
        return known

    def _take_fault(self, operation: str) -> Fault | None:
        """A held call waits at its gate first; then the call takes the next fault, if any."""
        gate = self._state.gates.get(operation)
        if gate is not None:
            gate.pass_through()
        with self._state.lock:
            for fault in self._state.faults:
                if fault.count > 0 and fault.operation in ("*", operation):
                    fault.count -= 1
                    return Fault(fault.operation, fault.code, 1, fault.delay)
        return None

    def _answer_fault(
        self, fault: Fault, environ: Environ, start_response: StartResponse, call: Call
    ) -> Iterable[bytes]:
        if fault.delay:
            time.sleep(fault.delay)
        if fault.code == "reset":
            self._record(replace(call, status=0, note="injected: connection reset"), environ)
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return []
        if fault.code in ("html", "garbage"):
            self._record(
                replace(call, status=500 if fault.code == "html" else 200, note=f"injected: {fault.code}"), environ
            )
            if fault.code == "html":
                start_response("500 Internal Server Error", [("Content-Type", "text/html")])
                return [HTML_PAGE]
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [b"\x00\x01 not <an aws> response {"]
        status, message = FAULT_STATUS[fault.code]
        self._record(replace(call, status=status, note=f"injected: {fault.code}"), environ)
        reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "text/xml")])
        return [_error_xml(fault.code, message)]

    @staticmethod
    def _expired(access_key: str) -> bool:
        session = _session_of(access_key)
        return session is not None and session.expiration < datetime.now(UTC).replace(tzinfo=None)

    def _record(self, call: Call, environ: Environ | None = None) -> None:
        started = (environ or {}).get(_STARTED_KEY, time.monotonic())
        call = replace(call, started=started, ended=time.monotonic())
        with self._state.lock:
            self._state.calls.append(call)

    def _oidc_hook(
        self, environ: Environ, body: bytes, params: dict[str, str], account: str, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        """CI trusts: the token mint endpoint, and the referee of AssumeRoleWithWebIdentity."""
        path = environ.get("PATH_INFO", "")
        issuer = self._state.issuer
        if path.startswith(web_identity.MINT_PATH) and issuer is not None:
            if not hmac.compare_digest(path.encode(), f"{web_identity.MINT_PATH}/{issuer.mint_secret}".encode()):
                start_response("403 Forbidden", [("Content-Type", "application/json")])
                return [b'{"error": "the mint URL is the one the sandbox exported (TRUST_BOOTSTRAP_TOKEN_MINTER)"}']
            status_line, answer = issuer.answer_mint(body)
            start_response(status_line, [("Content-Type", "application/json")])
            return [json.dumps(answer).encode()]
        if params.get("Action") == "AddClientIDToOpenIDConnectProvider" and account:
            status_line, xml = web_identity.add_client_id(params, account)
            self._record(Call(account, "iam", "AddClientIDToOpenIDConnectProvider", int(status_line[:3]), ""))
            start_response(status_line, [("Content-Type", "text/xml")])
            return [xml]
        if params.get("Action") != "AssumeRoleWithWebIdentity":
            return None
        verdict = self._web_identity_referee(params)
        if verdict.allowed:
            self._record(Call(account, "sts", "AssumeRoleWithWebIdentity", 200, "web identity", verdict.reason))
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [web_identity.answer_allowed(params, REGION)]
        self._record(Call(account, "sts", "AssumeRoleWithWebIdentity", 403, "web identity", verdict.reason))
        bad_request = verdict.code != "AccessDenied"
        start_response("400 Bad Request" if bad_request else "403 Forbidden", [("Content-Type", "text/xml")])
        return [_error_xml(verdict.code, verdict.message)]

    def _web_identity_referee(self, params: dict[str, str]) -> web_identity.Verdict:
        verdict = web_identity.judge_request(params, _find_role, self._state.issuer)
        role = _find_role(params.get("RoleArn", "")) if verdict.allowed else None
        changed = self._state.role_changed.get((role.account_id, role.name)) if role is not None else None
        delay = self._state.propagation_delay
        if changed is not None and time.monotonic() - changed < delay:
            return web_identity.Verdict(False, f"the role changed less than {delay:g}s ago (propagation)")
        return verdict

    def _referee(self, caller: Caller, params: dict[str, str], access_key: str = "") -> Verdict:
        role_arn = params.get("RoleArn", "")
        role = _find_role(role_arn)
        if role is None:
            return Verdict(False, "the role does not exist")
        duration = int(params.get("DurationSeconds") or 3600)
        if duration > int(role.max_session_duration or 3600):
            return Verdict(False, "DurationSeconds exceeds the role's MaxSessionDuration", "ValidationError")
        changed = self._state.role_changed.get((role.account_id, role.name))
        delay = self._state.propagation_delay
        if changed is not None and time.monotonic() - changed < delay:
            return Verdict(False, f"the role changed less than {delay:g}s ago (propagation)")
        request = Request(
            role_arn=role_arn,
            external_id=params.get("ExternalId"),
            mfa_serial=params.get("SerialNumber"),
            mfa_token=params.get("TokenCode"),
            session_name=params.get("RoleSessionName"),
            source_identity=params.get("SourceIdentity"),
            tags=tuple(
                (params[f"Tags.member.{n}.Key"], params.get(f"Tags.member.{n}.Value", ""))
                for n in range(1, 51)
                if f"Tags.member.{n}.Key" in params
            ),
        )
        verdict = judge(json.loads(role.assume_role_policy_document), caller, request)
        if verdict.allowed and access_key:  # the caller's side, for grants scoped by the resource's organization
            allowed, why = orgscope.identity_allows_assume(access_key, role_arn)
            return verdict if allowed else Verdict(False, why)
        return verdict


class ControlGate:
    """In front of everything: /moto-api/* only for the sandbox's owner (the control secret)."""

    def __init__(self, inner: WsgiApp, state: _State) -> None:
        self._inner = inner
        self._state = state

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            given = environ.get("HTTP_" + CONTROL_HEADER.upper().replace("-", "_"), "")
            if not hmac.compare_digest(given.encode(), self._state.control_secret.encode()):
                start_response("403 Forbidden", [("Content-Type", "text/xml")])
                return [_error_xml("AccessDenied", "The sandbox's control API needs the sandbox owner's secret.")]
        return self._inner(environ, start_response)


def sequential_rounds(calls: Iterable[Call]) -> int:
    """How many round trips a client waited for one after another: the longest chain of calls each
    of which started after the previous one ended (calls that overlap in time count as one round).
    Greedy by end time finds the longest such chain (interval scheduling)."""
    rounds, free_at = 0, float("-inf")
    for call in sorted(calls, key=lambda c: c.ended):
        if call.started >= free_at:
            rounds, free_at = rounds + 1, call.ended
    return rounds


class Sandbox:
    """The two-account sandbox: start(), use the profile files, stop().

    Accounts: A=111111111111 (profiles ``a-admin`` and ``ci`` for the user ``ci-user``, which has
    no policies of its own) and B=222222222222 (profile ``b-admin``).
    """

    def __init__(
        self,
        directory: Path,
        port: int = 0,
        propagation_delay: float = 0.0,
        org_accounts: int = 0,
        latency: float = 0.0,
    ) -> None:
        self.directory = Path(directory)
        self._port = port
        self._state = _State(propagation_delay=propagation_delay, latency=latency)
        self.issuer = Issuer(self.directory)
        self._state.issuer = self.issuer
        self._org_size = org_accounts
        self.org_unit = ""  # the OU holding the member accounts (one of them in a child OU)
        self.org_members: list[str] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.profiles: dict[str, Profile] = {}
        self._seed_clients: dict[str, Any] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

        orgscope.install()
        _leave_trust_to_the_referee()
        self.issuer.start()
        app = ControlGate(SandboxApp(DomainDispatcherApplication(create_backend_app), self._state), self._state)
        self._server = make_server("127.0.0.1", self._port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._seed()

    def stop(self) -> None:
        self.issuer.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def reset(self) -> None:
        """Empty both accounts and seed them anew (new keys, same profile names).

        moto's own reset rebuilds every service of every account and reloads the ~1,300 AWS managed
        policies each time (seconds); this empties just our two accounts and keeps the policies.
        """

        with self._state.lock:
            self._state.calls.clear()
            self._state.role_changed.clear()
            self._state.faults.clear()
            for gate in self._state.gates.values():
                gate.release()
            self._state.gates.clear()
            self._state.callers.clear()
        management = (MANAGEMENT_ACCOUNT,) if self.org_members else ()
        orgscope.reset([ACCOUNT_A, ACCOUNT_B, *management])
        for account in (ACCOUNT_A, ACCOUNT_B, *management, *self.org_members):
            iam = iam_backends[account]["aws"]
            policies = iam.aws_managed_policies
            for policy in policies:
                policy.attachment_count = 0
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"
            try:
                iam.reset()
            finally:
                os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
            iam.aws_managed_policies = policies
            iam.managed_policies = {p.arn: p for p in policies}
            sts_backends[account]["aws"].reset()
        self._seed()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what users and tests read ---------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def config_file(self) -> Path:
        return self.directory / "config"

    @property
    def credentials_file(self) -> Path:
        return self.directory / "credentials"

    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.latency = seconds

    @property
    def propagation_delay(self) -> float:
        return self._state.propagation_delay

    @propagation_delay.setter
    def propagation_delay(self, seconds: float) -> None:
        self._state.propagation_delay = seconds

    def env(self) -> dict[str, str]:
        """The environment a client needs: profile files only, nothing emulator-specific."""
        return {
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            # CI trusts: signs the claims of a configured run, for the sandbox's issuer (ci_token.py)
            "TRUST_BOOTSTRAP_TOKEN_MINTER": f"{self.endpoint}{web_identity.MINT_PATH}/{self.issuer.mint_secret}",
        }

    def calls(self) -> list[Call]:
        with self._state.lock:
            return list(self._state.calls)

    def clear_calls(self) -> None:
        with self._state.lock:
            self._state.calls.clear()

    def inject(self, fault: Fault) -> None:
        """Make the next calls of an operation fail (see Fault)."""
        with self._state.lock:
            self._state.faults.append(fault)

    def hold(self, operation: str) -> Gate:
        """Hold every call of ``operation`` until the returned gate is released (see Gate)."""
        gate = Gate(operation)
        with self._state.lock:
            self._state.gates[operation] = gate
        return gate

    def expire_session(self, access_key_id: str) -> None:
        """Make a role session's credentials expired, as if its duration had passed."""
        session = _session_of(access_key_id)
        if session is None:
            raise KeyError(access_key_id)
        session.expiration = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)

    def secrets(self) -> list[str]:
        """Every secret the sandbox has handed out, for leak scanning."""

        values = [p.secret_access_key for p in self.profiles.values()]
        for backends in list(sts_backends.values()):
            for session in backends["aws"].assumed_roles:
                values += [session.secret_access_key, session.session_token]
        return [*values, self.issuer.mint_secret, *self.issuer.minted]

    # -- seeding ---------------------------------------------------------------------------------
    def _post(self, path: str, body: bytes) -> None:
        headers = {"Content-Type": "text/plain", CONTROL_HEADER: self._state.control_secret}
        request = urllib.request.Request(self.endpoint + path, data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def _iam(self, account: str) -> Any:
        if account not in self._seed_clients:
            self._seed_clients[account] = self._make_seed_client(account)
        return self._seed_clients[account]

    def _make_seed_client(self, account: str, service: str = "iam") -> Any:
        session = boto3.session.Session(aws_access_key_id="seed", aws_secret_access_key="seed", region_name=REGION)
        make: Callable[..., Any] = session.client
        client = make(service, endpoint_url=self.endpoint)

        def add_account_header(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-sign.*.*", add_account_header)
        return client

    def _user_with_key(self, iam: Any, user: str, admin: bool) -> tuple[str, str]:
        iam.create_user(UserName=user)
        if admin:
            iam.put_user_policy(
                UserName=user,
                PolicyName="sandbox-admin",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                    }
                ),
            )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def _seed_organization(self) -> None:
        """An organization managed from MANAGEMENT_ACCOUNT, with members in an OU (one in a child
        OU, to exercise recursion); each member has the access role the management account uses."""
        org = self._make_seed_client(MANAGEMENT_ACCOUNT, "organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        self.org_unit = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
        child = org.create_organizational_unit(ParentId=self.org_unit, Name="team")["OrganizationalUnit"]["Id"]
        for index in range(self._org_size):
            status = org.create_account(Email=f"member{index}@sandbox.test", AccountName=f"member{index}")
            account = status["CreateAccountStatus"]["AccountId"]
            parent = child if index == self._org_size - 1 else self.org_unit
            org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
            self.org_members.append(account)

    def _seed_access_roles(self) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:root"},
                           "Action": "sts:AssumeRole"}],
        }  # fmt: skip
        admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        for account in self.org_members:
            iam = self._iam(account)
            try:  # moto's CreateAccount makes the role already, as AWS does; a reset removes it
                iam.create_role(RoleName=ACCESS_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
            except iam.exceptions.EntityAlreadyExistsException:
                iam.update_assume_role_policy(RoleName=ACCESS_ROLE, PolicyDocument=json.dumps(trust))
            iam.put_role_policy(RoleName=ACCESS_ROLE, PolicyName="admin", PolicyDocument=json.dumps(admin))

    def _seed(self) -> None:
        self._post("/moto-api/reset-auth", b"inf")  # seed with authorization off
        if self._org_size and not self.org_members:
            self._seed_organization()
        self._seed_access_roles()
        a, b = self._iam(ACCOUNT_A), self._iam(ACCOUNT_B)
        seeds = [("a-admin", ACCOUNT_A, a, "admin", True), ("b-admin", ACCOUNT_B, b, "admin", True)]
        seeds.append(("ci", ACCOUNT_A, a, "ci-user", False))
        if self.org_members:
            seeds.append(("org-admin", MANAGEMENT_ACCOUNT, self._iam(MANAGEMENT_ACCOUNT), "admin", True))
        self.profiles = {}
        for profile, account, iam, user, admin in seeds:
            key_id, secret = self._user_with_key(iam, user, admin)
            self.profiles[profile] = Profile(profile, account, key_id, secret)
        self._write_profiles()
        self._post("/moto-api/reset-auth", b"0")  # from here on, every request is authorized
        self.clear_calls()  # the log is for the traffic of the tool under test, not the seeding

    def _write_profiles(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        config, credentials = [], []
        for p in self.profiles.values():
            config += [
                f"[profile {p.name}]",
                f"region = {REGION}",
                f"endpoint_url = {self.endpoint}",
                "",
            ]
            credentials += [
                f"[{p.name}]",
                f"aws_access_key_id = {p.access_key_id}",
                f"aws_secret_access_key = {p.secret_access_key}",
                "",
            ]
        # Secrets: 0600 from the first byte, in a file created exclusively, renamed over any planted link.
        safewrite.write(self.credentials_file, "\n".join(credentials), mode=0o600)
        safewrite.write(self.config_file, "\n".join(config), mode=0o644)


def iter_exports(sandbox: Sandbox) -> Iterator[str]:
    for key, value in sandbox.env().items():
        yield f"export {key}={value}"

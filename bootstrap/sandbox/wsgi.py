"""The sandbox's HTTP layer in front of moto: the referee, propagation delay, faults, the request log.

SandboxApp judges every AssumeRole with the independent referee (referee.py), makes a role
unassumable for ``propagation_delay`` seconds after it changes, answers injected faults
(faults.py), and logs every call; ControlGate keeps moto's control API for the sandbox's owner.
What it needs of moto's internals comes from moto_private.py.
"""

from __future__ import annotations

import hmac
import io
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs

from bootstrap.sandbox import delegated, faults, moto_private, oidc_controls, orgscope, quotas, sts_rules, web_identity
from bootstrap.sandbox.faults import Environ, Fault, Gate, StartResponse, error_xml
from bootstrap.sandbox.oidc_issuer import Issuer
from bootstrap.sandbox.referee import Caller, judge

WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

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


@dataclass
class SandboxState:
    """What the WSGI layers share with the Sandbox object that drives them."""

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
STARTED_KEY = "sandbox.started"  # the environ key holding when a request arrived


def access_key_of(environ: Environ) -> tuple[str, str]:
    """(access key id, service) from a SigV4 Authorization header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) < 4:
        return "", ""
    return scope[0], scope[3]


class SandboxApp:
    """WSGI layer in front of moto: referee, propagation delay, request log."""

    def __init__(self, inner: WsgiApp, state: SandboxState, region: str) -> None:
        self._inner = quotas.Enforcer(inner, error_xml)
        self._state = state
        self._region = region  # where web identity sessions are issued

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ[STARTED_KEY] = time.monotonic()
        if self._state.latency:
            time.sleep(self._state.latency)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        # Query protocol (IAM, STS) names the operation in the body; JSON protocol in a header.
        operation = params.get("Action") or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        access_key, service = access_key_of(environ)
        caller = self._caller(access_key) if access_key else None
        account = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or (caller.account if caller else "")

        fault = self._take_fault(operation) if operation else None
        if fault is not None and fault.code == "delay":
            time.sleep(fault.delay)  # then served as usual: a slow call, not a failed one
        elif fault is not None:
            return self._answer_fault(fault, environ, start_response, Call(account, service, operation, 0, "", ""))

        if caller is not None and caller.temporary and moto_private.session_expired(access_key):
            self._record(Call(account, service, operation, 403, caller.principal_arn, "expired session"), environ)
            start_response("403 Forbidden", [("Content-Type", "text/xml")])
            return [error_xml("ExpiredToken", "The security token included in the request is expired")]

        refusal = self._refusal(service, operation, params, caller, access_key)
        if refusal is not None:
            who = caller.principal_arn if caller else ""
            self._record(Call(account, service, operation, refusal.status, who, refusal.reason), environ)
            start_response(refusal.status_line, [("Content-Type", "text/xml")])
            return [error_xml(refusal.code, refusal.message)]

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
                headers, chunks = [("Content-Type", "text/xml")], [error_xml("NotImplemented", message)]
        status = int(status_line.split(maxsplit=1)[0])
        if service and operation:
            self._record(Call(account, service, operation, status, caller.principal_arn if caller else "",
                              params=delegated.request_params(params)), environ)  # fmt: skip
        if status == 200 and service == "iam" and operation in ("CreateRole", "UpdateAssumeRolePolicy"):
            with self._state.lock:
                self._state.role_changed[(account, params.get("RoleName", ""))] = time.monotonic()
        start_response(status_line, headers)
        return chunks

    def _refusal(
        self, service: str, operation: str, params: dict[str, str], caller: Caller | None, access_key: str
    ) -> sts_rules.Refusal | None:
        """What the sandbox refuses before moto sees the request: AssumeRole as STS judges it, and a
        trust policy on a shared OIDC provider that skips IAM's identity-provider controls."""
        if service == "sts" and operation == "AssumeRole" and caller is not None:
            return self._referee(caller, params, access_key)
        if service == "iam" and operation in ("CreateRole", "UpdateAssumeRolePolicy"):
            document = params.get("AssumeRolePolicyDocument") or params.get("PolicyDocument") or ""
            for provider_arn, key in oidc_controls.violations(document):
                why = f"identity-provider controls: {key} not evaluated"
                return sts_rules.Refusal("MalformedPolicyDocument", oidc_controls.message(provider_arn, key), why, 400)
        return None

    def _caller(self, access_key: str) -> Caller | None:
        """Who signs with this key. A key never changes hands, so answers are kept (until reset):
        the lookup walks every user of every account."""
        with self._state.lock:
            known = self._state.callers.get(access_key)
        if known is None:
            known = moto_private.find_caller(access_key)
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
        def record(status: int, note: str) -> None:
            self._record(replace(call, status=status, note=note), environ)

        return faults.answer(fault, environ, start_response, record)

    def _record(self, call: Call, environ: Environ | None = None) -> None:
        started = (environ or {}).get(STARTED_KEY, time.monotonic())
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
            return [web_identity.answer_allowed(params, self._region)]
        self._record(Call(account, "sts", "AssumeRoleWithWebIdentity", 403, "web identity", verdict.reason))
        bad_request = verdict.code != "AccessDenied"
        start_response("400 Bad Request" if bad_request else "403 Forbidden", [("Content-Type", "text/xml")])
        return [error_xml(verdict.code, verdict.message)]

    def _web_identity_referee(self, params: dict[str, str]) -> web_identity.Verdict:
        call = sts_rules.parse(params)  # RoleSessionName and DurationSeconds have AssumeRole's constraints
        refusal = sts_rules.validation_refusal(call)
        if refusal is not None:
            return web_identity.Verdict(False, refusal.reason, refusal.code, refusal.message)
        verdict = web_identity.judge_request(params, moto_private.find_role, self._state.issuer)
        role = moto_private.find_role(params.get("RoleArn", "")) if verdict.allowed else None
        if role is not None and call.duration_s > int(role.max_session_duration or sts_rules.DEFAULT_DURATION_S):
            message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            return web_identity.Verdict(False, "DurationSeconds exceeds the role's MaxSessionDuration", "ValidationError", message)  # fmt: skip
        changed = self._state.role_changed.get((role.account_id, role.name)) if role is not None else None
        delay = self._state.propagation_delay
        if changed is not None and time.monotonic() - changed < delay:
            return web_identity.Verdict(False, f"the role changed less than {delay:g}s ago (propagation)")
        return verdict

    def _referee(self, caller: Caller, params: dict[str, str], access_key: str = "") -> sts_rules.Refusal | None:  # noqa: PLR0911 (one answer per check STS makes, in its order)
        """AssumeRole as STS judges it (sts_rules.py): parameters, durations, the trust policy, then
        session tags and source identity on both sides, then the caller's organization-scoped grants."""
        call = sts_rules.parse(params)
        refusal = sts_rules.validation_refusal(call)
        if refusal is not None:
            return refusal
        role = moto_private.find_role(call.role_arn)
        if role is None:
            return sts_rules.access_denied(caller, "sts:AssumeRole", call.role_arn, "the role does not exist")
        refusal = sts_rules.duration_refusal(call, caller, role.max_session_duration)
        if refusal is not None:
            return refusal
        changed = self._state.role_changed.get((role.account_id, role.name))
        delay = self._state.propagation_delay
        if changed is not None and time.monotonic() - changed < delay:
            return sts_rules.access_denied(caller, "sts:AssumeRole", call.role_arn, f"the role changed less than {delay:g}s ago (propagation)")  # fmt: skip
        trust = json.loads(role.assume_role_policy_document)
        verdict = judge(trust, caller, call.request())
        if not verdict.allowed:
            return sts_rules.access_denied(caller, "sts:AssumeRole", call.role_arn, verdict.reason)
        if sts_rules.extra_actions(call):
            documents = moto_private.caller_policy_documents(access_key) if access_key else None
            resource = orgscope.resource_context(call.role_arn)  # an OU-scoped grant's keys (StackSets)
            refusal = sts_rules.permission_refusal(call, caller, trust, documents, resource)
            if refusal is not None:
                return refusal
        if access_key:  # the caller's side, for grants scoped by the resource's organization
            allowed, why = orgscope.identity_allows_assume(access_key, call.role_arn)
            if not allowed:
                return sts_rules.access_denied(caller, "sts:AssumeRole", call.role_arn, why)
        return None


class ControlGate:
    """In front of everything: /moto-api/* only for the sandbox's owner (the control secret)."""

    def __init__(self, inner: WsgiApp, state: SandboxState) -> None:
        self._inner = inner
        self._state = state

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            given = environ.get("HTTP_" + CONTROL_HEADER.upper().replace("-", "_"), "")
            if not hmac.compare_digest(given.encode(), self._state.control_secret.encode()):
                start_response("403 Forbidden", [("Content-Type", "text/xml")])
                return [error_xml("AccessDenied", "The sandbox's control API needs the sandbox owner's secret.")]
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

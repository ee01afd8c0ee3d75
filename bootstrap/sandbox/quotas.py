"""IAM's documented size quotas, which moto does not enforce, for the sandbox's WSGI layer.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html ("IAM and STS
character limits"): a user's inline policies together 2,048 characters, a role's 10,240, a
group's 5,120; a customer managed policy 6,144; a role trust policy 2,048 (the default); 50 tags
per user or role. IAM does not count white space. Breaking one answers LimitExceeded, as IAM does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from bootstrap.sandbox import moto_private

INLINE_TOTAL_MAX = {"User": 2_048, "Role": 10_240, "Group": 5_120}
MANAGED_POLICY_MAX = 6_144
TRUST_POLICY_MAX = 2_048
TAGS_MAX = 50
_WHITE_SPACE = re.compile(r"\s")


def size(document: str) -> int:
    """A policy's size as IAM counts it: characters other than white space."""
    return len(_WHITE_SPACE.sub("", document))


def _inline_total(account: str, kind: str, params: Mapping[str, str]) -> str | None:
    name, policy = params.get(f"{kind}Name", ""), params.get("PolicyName", "")
    held = moto_private.inline_policies(account, kind, name)
    if held is None:
        return None  # moto answers NoSuchEntity
    others = sum(size(doc) for other, doc in held.items() if other != policy)
    total = others + size(params.get("PolicyDocument", ""))
    limit = INLINE_TOTAL_MAX[kind]
    if total > limit:
        return f"Maximum policy size of {limit} bytes exceeded for {kind.lower()} {name}"
    return None


def _tag_keys(params: Mapping[str, str]) -> set[str]:
    return {v for k, v in params.items() if re.fullmatch(r"Tags\.member\.\d+\.Key", k)}


def _tags(account: str, kind: str, params: Mapping[str, str]) -> str | None:
    existing = moto_private.tag_keys(account, kind, params.get(f"{kind}Name", ""))
    if len(existing | _tag_keys(params)) > TAGS_MAX:
        return f"The number of tags has reached the maximum limit of {TAGS_MAX}."
    return None


def _documents(operation: str, params: Mapping[str, str]) -> str | None:
    """Quotas on one document alone: a managed policy, a trust policy; and tags at creation."""
    if operation in ("CreatePolicy", "CreatePolicyVersion") and size(params.get("PolicyDocument", "")) > (
        MANAGED_POLICY_MAX
    ):
        return f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}"
    trust = {"CreateRole": "AssumeRolePolicyDocument", "UpdateAssumeRolePolicy": "PolicyDocument"}.get(operation)
    if trust is not None and size(params.get(trust, "")) > TRUST_POLICY_MAX:
        return f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}"
    if operation in ("CreateRole", "CreateUser") and len(_tag_keys(params)) > TAGS_MAX:
        return f"The number of tags has reached the maximum limit of {TAGS_MAX}."
    return None


def refusal(account: str, operation: str, params: Mapping[str, str]) -> str | None:
    """The LimitExceeded message IAM would give for this request, or None when it fits."""
    if moto_private.iam_backend(account) is None:
        return None
    if operation in ("PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"):
        return _inline_total(account, operation.removeprefix("Put").removesuffix("Policy"), params)
    if operation in ("TagRole", "TagUser"):
        return _tags(account, operation.removeprefix("Tag"), params)
    return _documents(operation, params)


ACCOUNT_KEY = "trust_bootstrap.sandbox.account"  # set by the sandbox's WSGI layer: who is asking


class Enforcer:
    """WSGI: refuse, before moto sees it, an IAM request that breaks a size quota."""

    def __init__(self, inner: Callable[..., Iterable[bytes]], error_xml: Callable[[str, str], bytes]) -> None:
        self._inner = inner
        self._error_xml = error_xml

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].getvalue() if hasattr(environ["wsgi.input"], "getvalue") else b""
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        operation = params.get("Action", "")
        limit = refusal(str(environ.get(ACCOUNT_KEY, "")), operation, params) if operation else None
        if limit is None:
            return self._inner(environ, start_response)
        start_response("409 Conflict", [("Content-Type", "text/xml")])
        return [self._error_xml("LimitExceeded", limit)]

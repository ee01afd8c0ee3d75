"""Every reach into moto's internals the sandbox makes (backends, server app, a patched check), in one place.

moto's public surface is its HTTP API; what the sandbox adds (the referee, expiry, quotas, web
identity, reset without reloading managed policies) needs its in-process backends, whose shape moto
does not promise to keep. Kept here so a moto upgrade has one module to check.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudformation.models import StackSet, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends

from bootstrap.sandbox import arnparts, delegated, s3_actions
from bootstrap.sandbox.referee import Caller

# AWS managed policies (ReadOnlyAccess, ...) exist in moto only when this is set before its IAM
# backends are created; moto reads it when a backend is made (on the first request), after this import.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def server_app() -> WsgiApp:
    """moto's own WSGI app, serving every service by the request's host or signature."""
    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    return app


def leave_trust_to_the_referee() -> None:
    """moto's own same-account trust check compares principal ARNs exactly, so a role trusting
    arn:aws:iam::A:root refuses a user of A, which AWS allows. Every AssumeRole is judged by the
    referee before moto sees it (wsgi.SandboxApp), so moto's check is switched off; moto still checks
    the caller's own identity policies (sts:AssumeRole on the role)."""
    from moto.iam import access_control  # noqa: PLC0415

    def trusted(self: Any, role_arn: str) -> bool:
        return True

    access_control.IAMRequestBase._check_role_trust_relationship = trusted  # type: ignore[method-assign]


def install_s3_actions() -> None:
    """Authorize S3 requests with IAM's action names (s3_actions.py), not the operations' names moto
    asks for (HeadBucket: s3:ListBucket, ...): the action handed to moto's S3 authorization is translated."""
    from moto.iam.access_control import S3IAMRequest  # noqa: PLC0415

    original = S3IAMRequest.__init__
    if getattr(original, "sandbox_translates", False):
        return  # a second sandbox in this process: installed already

    def translating(self: Any, *args: Any, **kwargs: Any) -> None:
        action = kwargs.get("action")
        if isinstance(action, str):
            kwargs["action"] = s3_actions.iam_action(action)
        original(self, *args, **kwargs)

    translating.sandbox_translates = True  # type: ignore[attr-defined]
    S3IAMRequest.__init__ = translating  # type: ignore[method-assign]


def iam_backend(account: str) -> Any | None:
    """moto's IAM of one account, or None when moto has not made it."""
    return iam_backends[account]["aws"] if account in iam_backends else None


def _session_of(access_key: str) -> Any:
    for sts in list(sts_backends.values()):
        session = sts["aws"].get_assumed_role_from_access_key(access_key)
        if session is not None:
            return session
    return None


def find_caller(access_key: str) -> Caller | None:
    """Who signs with this access key: an IAM user, or a role session."""
    for account_id, backends in list(iam_backends.items()):
        user = backends["aws"].get_user_from_access_key_id(access_key)
        if user is not None:
            return Caller(account=account_id, principal_arn=user.arn, temporary=False, user_id=user.id)
    for account_id, sts in list(sts_backends.items()):
        session = sts["aws"].get_assumed_role_from_access_key(access_key)
        if session is not None:
            return Caller(account_id, session.role_arn, True, user_id=session.user_id, session_arn=session.arn)
    return None


def find_role(role_arn: str) -> Any:
    """moto's role of that exact ARN, or None."""
    account = arnparts.account_of(role_arn) or ""
    iam = iam_backend(account) if account.isdigit() else None
    if iam is None:
        return None
    return next((role for role in list(iam.roles.values()) if role.arn == role_arn), None)


def _principal(account: str, kind: str, name: str) -> Any:
    """moto's user, role or group ("User", "Role", "Group") of that name, or None."""
    backend = iam_backends[account]["aws"]
    tables: dict[str, dict[str, Any]] = {"User": backend.users, "Role": backend.roles, "Group": backend.groups}
    table = tables[kind]
    if kind == "Role":  # moto keys roles by ID
        return next((r for r in table.values() if r.name == name), None)
    return table.get(name)


def inline_policies(account: str, kind: str, name: str) -> dict[str, str] | None:
    """{policy name: document} of a user, role or group ("User", "Role", "Group"); None: no such one."""
    owner = _principal(account, kind, name)
    return None if owner is None else dict(owner.policies)


def set_trust_policy(account: str, role_name: str, document: str) -> None:
    """Store a role's trust policy without IAM's checks (KeyError: no such role)."""
    role = _principal(account, "Role", role_name)
    if role is None:
        raise KeyError(role_name)
    role.assume_role_policy_document = document


def tag_keys(account: str, kind: str, name: str) -> set[str]:
    """The tag keys a user or role ("User", "Role") holds (none when it does not exist)."""
    held = getattr(_principal(account, kind, name), "tags", None) or {}
    # moto keeps a role's tags as a list of {"Key", "Value"}, a user's as a dict keyed by tag key.
    return {t["Key"] for t in held} if isinstance(held, list) else set(held)


def session_expired(access_key: str) -> bool:
    session = _session_of(access_key)
    return session is not None and bool(session.expiration < datetime.now(UTC).replace(tzinfo=None))


def expire_session(access_key: str) -> None:
    """Make a role session's credentials expired, as if its duration had passed (KeyError: none)."""
    session = _session_of(access_key)
    if session is None:
        raise KeyError(access_key)
    session.expiration = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)


def session_secrets() -> Iterator[str]:
    """The secret key and token of every role session moto has issued."""
    for backends in list(sts_backends.values()):
        for session in backends["aws"].assumed_roles:
            yield session.secret_access_key
            yield session.session_token


def reset_accounts(accounts: Iterable[str]) -> None:
    """Empty IAM and STS of these accounts. moto's own reset rebuilds every service of every account
    and reloads the ~1,300 AWS managed policies each time (seconds); this keeps the policies."""
    for account in accounts:
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


def open_id_providers(account: str) -> list[Any]:
    """moto's IAM OIDC providers of one account (arn, url, client_id_list)."""
    iam = iam_backend(account)
    return list(iam.open_id_providers.values()) if iam is not None else []


def open_id_provider(account: str, arn: str) -> Any | None:
    iam = iam_backend(account)
    return iam.open_id_providers.get(arn) if iam is not None else None


def web_identity_session(role_arn: str, session_name: str, policy: str | None, duration: int, region: str) -> Any:
    """A session of the role issued through moto's STS backend of the role's account (so its
    credentials act there): moto cannot serve the unsigned call with authorization on."""
    account = arnparts.account_of(role_arn) or ""
    return sts_backends[account]["aws"].assume_role_with_web_identity(
        region_name=region,
        role_session_name=session_name,
        role_arn=role_arn,
        policy=policy,
        duration=duration,
        external_id=None,
    )


def org_of(account: str) -> tuple[str, list[str]] | None:
    """(organization id, the account's paths) when an organization holds the account."""
    for backends in list(organizations_backends.values()):
        backend = backends.get("aws") if hasattr(backends, "get") else None
        organization = getattr(backend, "org", None)
        if backend is None or organization is None:
            continue
        found = next((a for a in backend.accounts if a.id == account), None)
        if found is None:
            continue
        units = {ou.id: ou.parent_id for ou in backend.ou}
        chain: list[str] = []
        parent: str | None = found.parent_id
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = units.get(parent)
        org_id = str(organization.id)
        return org_id, ["/".join([org_id, *reversed(chain)]) + "/"]
    return None


def _documents(policies: list[Any]) -> list[dict[str, Any]]:
    out = []
    for policy in policies:
        if hasattr(policy, "versions"):
            text = next(v.document for v in policy.versions if v.is_default)
        elif isinstance(policy, dict):
            text = policy.get("policy_document", policy)
        else:
            text = policy
        out.append(json.loads(text) if isinstance(text, str) else text)
    return out


def caller_policy_documents(access_key: str) -> list[dict[str, Any]] | None:
    """The identity policy documents (inline and attached; a user's groups' too) of whoever signs with this key."""
    for backends in list(iam_backends.values()):
        iam = backends["aws"]
        user = iam.get_user_from_access_key_id(access_key)
        if user is not None:
            docs: list[Any] = [iam.get_user_policy(user.name, n) for n in iam.list_user_policies(user.name)]
            docs += iam.list_attached_user_policies(user.name)[0]
            for group in iam.get_groups_for_user(user.name):
                docs += [iam.get_group_policy(group.name, n) for n in iam.list_group_policies(group.name)]
                docs += iam.list_attached_group_policies(group.name)[0]
            return _documents(docs)
    for account_id, sts in list(sts_backends.items()):
        session = sts["aws"].get_assumed_role_from_access_key(access_key)
        if session is not None:
            iam = iam_backends[account_id]["aws"]
            name = arnparts.name_of(session.role_arn)
            docs = [iam.get_role_policy(name, n)[1] for n in iam.list_role_policies(name)]
            docs += iam.list_attached_role_policies(name)[0]
            return _documents(docs)
    return None


# -- organizations and StackSets (orgscope.py) ------------------------------------------------------------------------------------


def _accounts_under(ous: list[str], manager: str) -> set[str]:
    backend = organizations_backends[manager]["aws"]
    wanted, grew = set(ous), True
    while grew:
        more = {ou.id for ou in backend.ou if ou.parent_id in wanted} - wanted
        grew = bool(more)
        wanted |= more
    return {a.id for a in backend.accounts if a.parent_id in wanted}


_original_delete = CloudFormationResponse.delete_stack_instances


def _delete_stack_instances(self: Any) -> Any:
    targets = self._get_params().get("DeploymentTargets") or {}
    ous = targets.get("OrganizationalUnitIds") or []
    if ous and not self._get_param("Accounts"):
        accounts = sorted(_accounts_under(ous, self.current_account))
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        regions = self._get_param("Regions", [])
        accounts = [i.account_id for i in stackset.stack_instances if i.account_id in accounts]
        stackset.delete_stack_instances(accounts, regions)
        return ActionResult({"OperationId": stackset.operations[-1]["OperationId"]})
    return _original_delete(self)


_original_instances = StackSet.create_stack_instances


def _create_stack_instances(
    self: StackSet, accounts: list[str], regions: list[str], deployment_targets: Any, parameters: Any
) -> str:
    """Service-managed instances for units, as AWS creates them: every account of the units and of
    all units below them (moto goes one level down), one result per account, and a failure in one
    account (say, a role of that name already there) fails that instance with a reason instead of
    the whole call."""
    ous = (deployment_targets or {}).get("OrganizationalUnitIds") or []
    if self.permission_model != "SERVICE_MANAGED" or not ous:
        return str(_original_instances(self, accounts, regions, deployment_targets, parameters))
    results: list[tuple[str, str, str, str]] = []
    for region in regions:
        for account in sorted(_accounts_under(ous, self.instances.account_id)):
            if self.instances.get_instance(account, region) is not None:
                continue
            try:
                self.instances.create_instances([account], [region], parameters or self.parameters, {},  # type: ignore[arg-type]
                                                permission_model=self.permission_model)  # fmt: skip
                results.append((account, region, "SUCCEEDED", ""))
            except Exception as err:  # any failure of one stack is that instance's, as in AWS
                reason = f"ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:{err}."
                results.append((account, region, "FAILED", reason))
    operation_id = str(uuid.uuid4())
    status = "FAILED" if any(r[2] == "FAILED" for r in results) else "SUCCEEDED"
    operation = self._create_operation(operation_id=operation_id, action="CREATE", status=status)
    operation["Instances"] = [{account: region} for account, region, _, _ in results]
    operation["Results"] = results
    return operation_id


_original_results = CloudFormationResponse.list_stack_set_operation_results


def _operation_results(self: Any) -> Any:
    operation = self.cloudformation_backend.list_stack_set_operation_results(
        self._get_param("StackSetName"), self._get_param("OperationId")
    )
    if "Results" not in operation:
        return _original_results(self)
    summaries = [{"Account": a, "Region": r, "Status": st, **({"StatusReason": why} if why else {})}
                 for a, r, st, why in operation["Results"]]  # fmt: skip
    return ActionResult({"Summaries": summaries})


_original_create = CloudFormationResponse.create_stack_set
_original_update = CloudFormationResponse.update_stack_set


def _keeping_auto_deployment(original: Any) -> Any:
    """moto accepts AutoDeployment and forgets it; AWS returns it in DescribeStackSet. Keep it (it
    is still not acted on: no account joining the unit later gets an instance by itself)."""

    def call(self: Any) -> Any:
        answer = original(self)
        setting = self._get_params().get("AutoDeployment")
        if setting:
            stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
            stackset.auto_deployment = {"Enabled": str(setting.get("Enabled")).lower() == "true",
                                        "RetainStacksOnAccountRemoval":
                                        str(setting.get("RetainStacksOnAccountRemoval")).lower() == "true"}  # fmt: skip
        return answer

    return call


def install_stacksets() -> None:
    """The sandbox's StackSets behaviour (see orgscope.py's docstring), patched into moto."""
    StackSet.create_stack_instances = _create_stack_instances  # type: ignore[method-assign]
    CloudFormationResponse.list_stack_set_operation_results = _operation_results  # type: ignore[method-assign]
    CloudFormationResponse.delete_stack_instances = _delete_stack_instances  # type: ignore[method-assign]
    CloudFormationResponse.create_stack_set = _keeping_auto_deployment(_original_create)  # type: ignore[method-assign]
    CloudFormationResponse.update_stack_set = _keeping_auto_deployment(_original_update)  # type: ignore[method-assign]
    delegated.install()  # CallAs and delegated administrators wrap the calls above: after them


def reset_stacksets(accounts: list[str]) -> None:
    """Empty moto's StackSets of these accounts (moto's IAM reset does not touch CloudFormation),
    and forget their delegated administrators."""
    delegated.reset(accounts)
    for account in accounts:
        if account in cloudformation_backends:
            for region_backend in cloudformation_backends[account].values():
                region_backend.stacksets.clear()

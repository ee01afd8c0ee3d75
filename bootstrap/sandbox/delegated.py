"""What the sandbox adds to moto for CloudFormation's ``CallAs`` and delegated administrators.

moto accepts ``CallAs`` on every StackSet call and ignores it, and it does not know CloudFormation's
delegated-administrator service principal. AWS documents
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html, CallAs;
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-delegated-admin.html):

- ``CallAs=DELEGATED_ADMIN`` is for a member account registered in the management account as a
  delegated administrator for ``member.org.stacksets.cloudformation.amazonaws.com``; any other
  caller (the management account included: it cannot be registered) gets
  ``ValidationError: Account used is not a delegated administrator``. Service-managed StackSets of a
  delegated administrator live in the management account: the sandbox serves such calls from the
  management account's CloudFormation.
- ``CallAs=SELF`` (the default) acts in the caller's own account: a member account creating a
  service-managed StackSet that way gets ``ValidationError: You must be the management account or
  delegated admin account of an organization before operating a SERVICE_MANAGED stack set``.
- Organizations' read operations (ListParents, ListAccountsForParent, ...) answer only the
  management account and delegated administrators (of any service); other members get
  ``AccessDeniedException`` (https://docs.aws.amazon.com/organizations/latest/APIReference/action-reference.html).
  moto answers members from an empty organization instead; DescribeOrganization stays open to
  every member, as in AWS.

The request log keeps ``CallAs`` (and the StackSet's name) of each call (``request_params``), so a
test can check what a run sent: moto itself would accept anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.organizations.exceptions import OrganizationsClientError
from moto.organizations.models import FakeDelegatedAdministrator, OrganizationsBackend, organizations_backends

STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
NOT_DELEGATED = "Account used is not a delegated administrator"
SELF_FROM_MEMBER = (
    "You must be the management account or delegated admin account of an organization before operating a "
    "SERVICE_MANAGED stack set"
)

# What the log keeps of a request: never template bodies or parameter values (an ExternalId).
RECORDED_PARAMS = ("CallAs", "StackSetName")

STACKSET_OPERATIONS = (
    "create_stack_set", "update_stack_set", "delete_stack_set", "describe_stack_set", "list_stack_sets",
    "create_stack_instances", "update_stack_instances", "delete_stack_instances", "list_stack_instances",
    "describe_stack_set_operation", "list_stack_set_operations", "list_stack_set_operation_results",
    "stop_stack_set_operation", "detect_stack_set_drift",
)  # fmt: skip

ORG_READS = (
    "list_roots", "list_parents", "list_children", "list_accounts", "list_accounts_for_parent",
    "list_organizational_units_for_parent", "describe_organizational_unit", "describe_account",
    "list_delegated_administrators", "list_delegated_services_for_account",
)  # fmt: skip

_WRAPPED = "_sandbox_delegated"


class AccessDeniedException(OrganizationsClientError):
    code = "AccessDeniedException"


def request_params(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The parameters of a request the log keeps (see RECORDED_PARAMS)."""
    return tuple((key, params[key]) for key in RECORDED_PARAMS if key in params)


def management_of(account: str) -> str | None:
    """The management account of the organization ``account`` is a member of (None: not a member)."""
    found = organizations_backends.master_accounts.get(account)
    return found[0] if found else None


def delegated_services(account: str) -> set[str]:
    """The service principals ``account`` is a registered delegated administrator for."""
    manager = management_of(account)
    if manager is None:
        return set()
    backend = organizations_backends[manager]["aws"]
    admin = next((a for a in backend.admins if a.account.id == account), None)
    return set(admin.services) if admin is not None else set()


def _with_call_as(name: str, original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call(self: Any) -> Any:
        call_as = str(self._get_param("CallAs") or "SELF").upper()
        account = self.current_account
        if call_as == "DELEGATED_ADMIN":
            manager = management_of(account)
            if manager is None or STACKSETS_PRINCIPAL not in delegated_services(account):
                raise ValidationError(message=NOT_DELEGATED)
            self.current_account = manager  # the StackSet lives in the management account
        elif (
            name == "create_stack_set"
            and str(self._get_param("PermissionModel") or "").upper() == "SERVICE_MANAGED"
            and management_of(account) is not None
        ):
            raise ValidationError(message=SELF_FROM_MEMBER)
        return original(self)

    setattr(call, _WRAPPED, True)
    return call


def _org_read(original: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: OrganizationsBackend, *args: Any, **kwargs: Any) -> Any:
        manager = management_of(self.account_id) if self.org is None else None
        if manager is None:
            return original(self, *args, **kwargs)
        if not delegated_services(self.account_id):
            raise AccessDeniedException("You don't have permissions to access this resource.")
        return original(organizations_backends[manager]["aws"], *args, **kwargs)

    setattr(call, _WRAPPED, True)
    return call


def install() -> None:
    """Wrap moto's StackSet calls and Organizations reads (once; after orgscope's own patches)."""
    if STACKSETS_PRINCIPAL not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(STACKSETS_PRINCIPAL)
    for name in STACKSET_OPERATIONS:
        current = getattr(CloudFormationResponse, name, None)
        if current is not None and not getattr(current, _WRAPPED, False):
            setattr(CloudFormationResponse, name, _with_call_as(name, current))
    for name in ORG_READS:
        current = getattr(OrganizationsBackend, name, None)
        if current is not None and not getattr(current, _WRAPPED, False):
            setattr(OrganizationsBackend, name, _org_read(current))


def reset(accounts: list[str]) -> None:
    """Forget the delegated administrators registered in these management accounts."""
    for account in accounts:
        backend = organizations_backends[account]["aws"] if account in organizations_backends else None
        if backend is not None and backend.org is not None:
            backend.admins.clear()

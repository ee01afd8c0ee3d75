"""The programs that use a trust once it is built (--for CONSUMER), and the one STS call each makes.

Pure data: which tag keys a consumer sends, its session name, its duration, whether its call is
chained. The trust (trust/consumerpolicy.py), the proof (trust/consumerproof.py) and the exports
read these, so that what the trust admits, what the proof replays and what the export writes agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Consumer(StrEnum):
    TERRAFORM = "terraform"
    GITHUB_ACTIONS = "github-actions"
    GITLAB_CI = "gitlab-ci"
    AWS_PROFILE = "aws-profile"
    HCP_TERRAFORM = "hcp-terraform"  # an HCP Terraform (or Terraform Enterprise) run: a `tfc` trust only


# HCP Terraform reaches AWS through dynamic provider credentials only: the run sends its workload
# identity token with AssumeRoleWithWebIdentity to the role TFC_AWS_RUN_ROLE_ARN names, "valid for the
# length of the plan or apply" (HashiCorp, "Dynamic Credentials with the AWS Provider",
# https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/aws-configuration).
# That call carries no session tags and is the proof's own on a direct trust; behind a hub role the
# second hop is the Terraform AWS provider's assume_role from the hub role's session (role chaining).
HCP_TERRAFORM_TRUST_FLAGS = "--tfc-organization/--tfc-workspace"


# aws-actions/configure-aws-credentials tags every AssumeRole it sends with access keys or with
# role-chaining (never AssumeRoleWithWebIdentity): "GitHub" plus NON_DROPPABLE_TAG_SOURCES
# (Repository, Workflow, Action, Actor, Commit, Branch) and, from v6.2.0, DROPPABLE_TAG_SOURCES
# (EventName, BaseRef, HeadRef, RunId, Job, TriggeringActor; BaseRef/HeadRef only on pull requests).
# Read in src/assumeRole.ts at tags v6.2.3 and v6-43-gbcd4089 of aws-actions/configure-aws-credentials.
GITHUB_ACTION = "aws-actions/configure-aws-credentials@v6"
GITHUB_TAG_KEYS = (
    "GitHub", "Repository", "Workflow", "Action", "Actor", "Branch", "Commit",
    "EventName", "RunId", "Job", "TriggeringActor", "BaseRef", "HeadRef",
)  # fmt: skip
GITHUB_SESSION = "GitHubActions"  # src/index.ts ROLE_SESSION_NAME, the action's default
GITHUB_DURATION_S = 3600  # src/index.ts DEFAULT_ROLE_DURATION

# Role chaining (a role session calling AssumeRole) is capped at one hour by STS:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html (role chaining).
CHAINED_MAX_S = 3600
TAG_SESSION_SID = "TrustBootstrapTagSession"  # the statement that admits a consumer's session tags
PROOF_SESSION = "trust-bootstrap-verify"  # the proof's own: no consumer's call may look like it


@dataclass(frozen=True)
class ConsumerCall:
    """The AssumeRole a consumer sends: what the trust must admit and the proof replays."""

    consumer: Consumer
    session_name: str
    duration_s: int
    tags: tuple[tuple[str, str], ...] = ()
    chained: bool = False  # the caller is a role session: STS caps the duration at one hour

    @property
    def tag_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.tags)


@dataclass(frozen=True)
class ConsumerVerdict:
    """One consumer's replayed call: admitted, or refused with what is missing."""

    consumer: str
    session_name: str
    ok: bool
    detail: str  # the assumed ARN, or what is missing and AWS's answer


# Values shaped like those the action sends on a pull request (every key present): the replay
# sends them so that the trust's aws:TagKeys condition sees the widest call the action makes.
_GITHUB_REPLAY_TAGS = {
    "GitHub": "Actions", "Repository": "octo-org/octo-repo", "Workflow": "deploy", "Action": "__run",
    "Actor": "octocat", "Branch": "refs/pull/1/merge", "Commit": "0123456789abcdef0123456789abcdef01234567",
    "EventName": "pull_request", "RunId": "1", "Job": "deploy", "TriggeringActor": "octocat",
    "BaseRef": "main", "HeadRef": "feature",
}  # fmt: skip


def session_name(consumer: Consumer, role_name: str) -> str:
    """The consumer's own session name, distinct from the proof's (a CloudTrail reader tells them
    apart); at most 64 characters of [\\w+=,.@-] as STS requires (role names are of that alphabet)."""
    if consumer is Consumer.GITHUB_ACTIONS:
        return GITHUB_SESSION
    if consumer is Consumer.HCP_TERRAFORM:  # its second hop is the provider's assume_role (ci/export_flow.py)
        return session_name(Consumer.TERRAFORM, role_name)
    return f"{consumer.value}-{role_name}"[:64]


def duration(max_session_duration: int, chained: bool) -> int:
    """Never above the role's maximum, and at most an hour where the call is chained."""
    return min(max_session_duration, CHAINED_MAX_S) if chained else max_session_duration


def call_of(consumer: Consumer, role_name: str, max_session_duration: int, chained: bool = False) -> ConsumerCall:
    name = session_name(consumer, role_name)
    if consumer is Consumer.GITHUB_ACTIONS:
        tags = tuple((k, _GITHUB_REPLAY_TAGS[k]) for k in GITHUB_TAG_KEYS)
        return ConsumerCall(consumer, name, min(GITHUB_DURATION_S, max_session_duration), tags, chained)
    if consumer is Consumer.TERRAFORM:
        # The export writes duration = "1h" (exports/formats.py): one hour, within any role's maximum.
        return ConsumerCall(consumer, name, CHAINED_MAX_S, (), chained)
    if consumer is Consumer.HCP_TERRAFORM:
        # The hub's second hop: the provider's assume_role from the hub role's session, always chained
        # (an hour at most); the exported provider block asks for duration = "1h" as for terraform.
        return ConsumerCall(consumer, name, CHAINED_MAX_S, (), True)
    return ConsumerCall(consumer, name, duration(max_session_duration, chained), (), chained)


def tags_session(consumers: tuple[str, ...]) -> bool:
    """Whether a named consumer tags its sessions (the trust and the grant then need sts:TagSession)."""
    return Consumer.GITHUB_ACTIONS.value in consumers


def parse(value: str) -> Consumer:
    """A consumer's name; ValueError names the known ones."""
    try:
        return Consumer(value)
    except ValueError:
        known = ", ".join(c.value for c in Consumer)
        raise ValueError(f"unknown consumer '{value}' (known: {known})") from None

"""The hub topology's proof per consumer (--for): with the hub role's credentials (the job's token
assumed once more), each named consumer's chained AssumeRole into the role in B, as it sends it.

In the hub topology every consumer chains: configure-aws-credentials' second step (`role-chaining`,
tagged unless `role-skip-session-tagging`), the aws CLI profile whose source_profile is the hub,
Terraform's second hop (also an HCP Terraform run's, --for hcp-terraform: the AWS provider's
assume_role from the hub role, session terraform-ROLE). So each call asks for an hour at most (role chaining), and the action's
call carries its 13 session tags: the trust in B and the hub role's grant must allow sts:TagSession.
"""

from __future__ import annotations

from bootstrap.aws import accounts as aws
from bootstrap.aws import oidc as aws_oidc
from bootstrap.aws.errors import AssumeRefused
from bootstrap.config.model import Config
from bootstrap.core import oidc
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.consumers import GITHUB_SESSION, Consumer, ConsumerVerdict
from bootstrap.trust import consumerproof


def replay(
    config: Config, source: aws.Account, hub_role_arn: str | None, role_arn: str, target_account: str, token: str
) -> tuple[ConsumerVerdict, ...]:
    """One verdict per named consumer; none outside the hub topology (there the consumer's call is
    the web identity call the proof made). ``source``: the hub's account."""
    if hub_role_arn is None or not config.consumers:
        return ()
    try:  # the first step as the action makes it: its default session name, no tags
        creds = aws_oidc.assume_role_with_web_identity(source, hub_role_arn, GITHUB_SESSION, token)
    except AssumeRefused as err:
        return tuple(ConsumerVerdict(n, GITHUB_SESSION, False, f"the hub role: {err.reason}") for n in config.consumers)
    hub = source.with_credentials(creds, label="the hub role")
    calls = consumerproof.calls_for(config, chained=True)
    return consumerproof.replay_calls(hub, AssumeRequest(role_arn), calls, target_account, None, 0.0)


def adding_nothing(config: Config) -> tuple[str, ...]:
    """The named consumers that change nothing on a direct web-identity trust (ci/flow.py warns of
    them): every one but hcp-terraform on an HCP Terraform trust, whose run's AssumeRoleWithWebIdentity
    with its workload identity token is exactly the call the proof makes (core/consumers.py)."""
    trust = config.oidc
    if trust is None or trust.hub_role is not None:
        return ()
    own = Consumer.HCP_TERRAFORM.value if trust.platform == oidc.Platform.TFC else None
    return tuple(name for name in config.consumers if name != own)

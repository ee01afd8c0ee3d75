"""Pure: a commented config file, with the values given set and every other key shown commented."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

# (key, comment, example shown when unset). Every key of Config appears; tests hold it so.
KEYS: tuple[tuple[str, str, Any], ...] = (
    ("source_profile", "AWS profile of the source account A, where the principal lives", "a-admin"),
    ("target_profile", "AWS profile of the target account B, where the role is created", "b-admin"),
    ("role_name", "name of the role in B (required)", "terraform-deploy"),
    ("principal", "exact ARN of the user or role in A to trust (default: the source profile's identity)",
     "arn:aws:iam::111111111111:user/ci-user"),
    ("external_id", "require this sts:ExternalId (2-1224 characters)", "my_external_id"),
    ("generate_external_id", "or generate a random ExternalId, printed once", True),
    ("require_mfa", "require MFA in the trust policy", True),
    ("mfa_max_age", "with MFA: the sign-in must be younger than this many seconds", 3600),
    ("policy_arns", "managed policies to attach", ["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
    ("inline_policies", "inline policies: name -> JSON file", {"deploy": "policies/deploy.json"}),
    ("max_session_duration", "longest session, 3600-43200 seconds", 3600),
    ("path", "IAM path of the role", "/"),
    ("permissions_boundary", "permissions boundary policy ARN", "arn:aws:iam::222222222222:policy/boundary"),
    ("description", "role description", "Deployments from CI"),
    ("tags", "tags on the role", {"team": "platform"}),
    ("session_name", "session name used to verify", "trust-bootstrap-verify"),
    ("verify_profile", "profile with the principal's credentials, to verify", "ci"),
    ("mfa_serial", "MFA device of the principal, to verify", "arn:aws:iam::111111111111:mfa/ci-user"),
    ("mfa_token", "current MFA code, to verify (better as a flag)", "123456"),
    ("verify", "prove the trust with a live AssumeRole", True),
    ("verify_timeout", "seconds to wait for IAM propagation", 120),
    ("replaces", "renaming: the role's previous name", "old-role-name"),
    ("managed_policy_quota", "your account's managed-policies-per-role quota, if raised (10-20)", 10),
    ("allow_admin", "allow admin-equivalent policies (AdministratorAccess, IAMFullAccess, * or iam:* on *)", False),
    ("trust_account", "trust the whole source account instead of the exact principal (weaker)", False),
    ("github", "CI without keys: trust GitHub Actions runs of a repository (instead of a principal)",
     {"repo": "octo-org/octo-repo", "ref": "refs/heads/main"}),
    ("gitlab", "or GitLab CI jobs of a project", {"project": "group/project", "ref": "main"}),
    ("oidc", "or tokens of any https issuer", {"issuer": "https://token.example.com", "audience": "sts.amazonaws.com",
                                              "subject": "repo:octo-org/octo-repo:ref:refs/heads/main"}),
    ("hub_role", "CI hub topology: a CI role in A the workflow assumes first", "ci-hub"),
    ("allow_org_wildcard", "allow a sub wildcard over a whole organization or group (warned)", False),
)  # fmt: skip


def _yaml(key: str, value: Any) -> list[str]:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False).rstrip("\n").splitlines()


def render(values: Mapping[str, Any]) -> str:
    lines = [
        "# trust-bootstrap configuration (written by 'trust-bootstrap init').",
        "# Use it with: trust-bootstrap apply --config THIS_FILE",
        "# Flags override these keys. Commented keys show an example value.",
        "",
    ]
    for key, comment, example in KEYS:
        lines.append(f"# {comment}")
        if values.get(key) not in (None, "", [], {}):
            lines += _yaml(key, values[key])
        else:
            lines += [f"# {line}" for line in _yaml(key, example)]
        lines.append("")
    return "\n".join(lines)

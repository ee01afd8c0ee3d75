"""diagnose's workflow: which diagnosis a command line asks for (a CI run, a CI trust's config, a
fleet, or one AssumeRole), made and returned as a value (results.Findings or FleetDiagnosis). No
printing: a fleet's progress goes to ``on_progress``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bootstrap.ci import job as oidcci
from bootstrap.config import diagnose as diagnose_config
from bootstrap.config import door
from bootstrap.config import fleet as fleetconfig
from bootstrap.config import model as config
from bootstrap.core.errors import InvalidInput
from bootstrap.core.findings import Finding
from bootstrap.core.results import Findings, OnProgress
from bootstrap.diagnose import gather as diagnose
from bootstrap.fleet import flow as fleet_flow
from bootstrap.fleet.results import FleetDiagnosis


@dataclass(frozen=True)
class DiagnoseRequest:
    """What the diagnose command line gave."""

    config_file: Path | None
    flags: Mapping[str, Any] = field(default_factory=dict)  # the AssumeRole's and the profiles' keys
    ci_options: Mapping[str, str] = field(default_factory=dict)  # a CI run described by flags
    token_file: Path | None = None  # a CI job's real token
    targets_from_org: str | None = None
    management_profile: str | None = None
    parallel: int = 8

    def get(self, key: str) -> Any:
        return self.flags.get(key)


def run(request: DiagnoseRequest, on_progress: OnProgress) -> Findings | FleetDiagnosis:
    door.refuse_unsafe_text(request.ci_options, config.flag_of)
    role_arn, target_profile = request.get("role_arn"), request.get("target_profile")
    if request.ci_options or request.token_file:
        if not role_arn:
            raise InvalidInput("Say which role: pass --role-arn ARN (and --target-profile to read it).")
        found, who = oidcci.run_diagnose(role_arn, target_profile, request.ci_options, request.token_file)
        return _ci_findings(role_arn, who, found)
    file = request.config_file
    if file is not None and not request.targets_from_org and not fleetconfig.is_fleet(file):
        ci_config = config.load(file, {})
        if ci_config.oidc is not None:  # a CI trust's config: diagnose the run it describes
            arn, found, who = oidcci.run_diagnose_config(ci_config)
            return _ci_findings(arn, who, found)
    if request.targets_from_org or fleetconfig.is_fleet(file):
        flags = {k: request.get(k) for k in ("source_profile",) if request.get(k)}
        the_fleet = fleet_flow.FleetRequest(
            file,
            flags,
            targets_from_org=request.targets_from_org,
            management_profile=request.management_profile,
            parallel=request.parallel,
        )
        return fleet_flow.diagnose(the_fleet, on_progress)
    result = diagnose.run(diagnose_config.load_diagnose(file, request.flags), request.management_profile)
    return Findings(result.facts.params.role_arn, result.principal_arn, result.findings, result.ok)


def _ci_findings(role_arn: str, who: str, found: list[Finding]) -> Findings:
    return Findings(role_arn, f"web identity: {who}", tuple(found), not any(f.status == "fail" for f in found))

"""The sandbox: a local multi-account AWS (moto in-process, behind the HTTP layer of wsgi.py), its
lifecycle, seeding and profile files.

moto serves IAM and STS over HTTP with IAM authorization enforced. In front of it (wsgi.py) the
sandbox judges every AssumeRole against the role's trust policy with the independent referee
(referee.py), delays a changed role like IAM propagation, injects faults (faults.py) and logs every
request. Whatever needs moto's internals is in moto_private.py.

The tool under test needs no emulator-specific code: it reaches this server through ordinary AWS
profiles whose ``endpoint_url`` points here.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from werkzeug.serving import make_server

from bootstrap.sandbox import datadir, moto_private, web_identity
from bootstrap.sandbox.faults import Fault, Gate
from bootstrap.sandbox.oidc_issuer import Issuer
from bootstrap.sandbox.wsgi import CONTROL_HEADER, Call, ControlGate, SandboxApp, SandboxState

# Fault: what ``inject`` takes (the sandbox command imports it from here with the Sandbox).
__all__ = ["ACCESS_ROLE", "ACCOUNT_A", "ACCOUNT_B", "MANAGEMENT_ACCOUNT", "Fault", "Sandbox", "iter_exports"]

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
MANAGEMENT_ACCOUNT = "000000000000"  # the organization's management account, when seeded
ACCESS_ROLE = "OrganizationAccountAccessRole"
REGION = "us-east-1"


@dataclass(frozen=True)
class Profile:
    name: str
    account: str
    access_key_id: str
    secret_access_key: str


class Sandbox:
    """The two-account sandbox: start(), use the profile files, stop().

    Accounts: A=111111111111 (profiles ``a-admin`` and ``ci`` for the user ``ci-user``, which has
    no policies of its own) and B=222222222222 (profile ``b-admin``).
    """

    def __init__(
        self,
        directory: Path,
        port: int = 0,
        propagation_delay: float = 0.0,
        org_accounts: int = 0,
        latency: float = 0.0,
    ) -> None:
        self.directory = Path(directory)
        self._port = port
        self._state = SandboxState(propagation_delay=propagation_delay, latency=latency)
        self.issuer = Issuer(self.directory)
        self._state.issuer = self.issuer
        self._org_size = org_accounts
        self.org_unit = ""  # the OU holding the member accounts (one of them in a child OU)
        self.org_members: list[str] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.profiles: dict[str, Profile] = {}
        self._seed_clients: dict[str, Any] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        datadir.secure_directory(self.directory)  # 0700 before any secret is written into it

        moto_private.install_stacksets()
        moto_private.install_s3_actions()
        moto_private.leave_trust_to_the_referee()
        self.issuer.start()
        app = ControlGate(SandboxApp(moto_private.server_app(), self._state, REGION), self._state)
        self._server = make_server("127.0.0.1", self._port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._seed()

    def stop(self) -> None:
        self.issuer.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def reset(self) -> None:
        """Empty both accounts and seed them anew (new keys, same profile names), keeping moto's
        AWS managed policies (moto_private.reset_accounts)."""

        with self._state.lock:
            self._state.calls.clear()
            self._state.role_changed.clear()
            self._state.faults.clear()
            for gate in self._state.gates.values():
                gate.release()
            self._state.gates.clear()
            self._state.callers.clear()
        self.issuer.forget_stand_ins()
        management = (MANAGEMENT_ACCOUNT,) if self.org_members else ()
        moto_private.reset_stacksets([ACCOUNT_A, ACCOUNT_B, *management])
        moto_private.reset_accounts((ACCOUNT_A, ACCOUNT_B, *management, *self.org_members))
        self._seed()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what users and tests read ---------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def config_file(self) -> Path:
        return self.directory / "config"

    @property
    def credentials_file(self) -> Path:
        return self.directory / "credentials"

    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.latency = seconds

    @property
    def propagation_delay(self) -> float:
        return self._state.propagation_delay

    @propagation_delay.setter
    def propagation_delay(self, seconds: float) -> None:
        self._state.propagation_delay = seconds

    def env(self) -> dict[str, str]:
        """The environment a client needs: profile files only, nothing emulator-specific."""
        return {
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            # CI trusts: signs the claims of a configured run, for the sandbox's issuer (ci_token.py)
            "TRUST_BOOTSTRAP_TOKEN_MINTER": f"{self.endpoint}{web_identity.MINT_PATH}/{self.issuer.mint_secret}",
        }

    def calls(self) -> list[Call]:
        with self._state.lock:
            return list(self._state.calls)

    def clear_calls(self) -> None:
        with self._state.lock:
            self._state.calls.clear()

    def inject(self, fault: Fault) -> None:
        """Make the next calls of an operation fail (see Fault)."""
        with self._state.lock:
            self._state.faults.append(fault)

    def hold(self, operation: str) -> Gate:
        """Hold every call of ``operation`` until the returned gate is released (see Gate)."""
        gate = Gate(operation)
        with self._state.lock:
            self._state.gates[operation] = gate
        return gate

    def expire_session(self, access_key_id: str) -> None:
        """Make a role session's credentials expired, as if its duration had passed."""
        moto_private.expire_session(access_key_id)

    def plant_legacy_trust(self, account: str, role_name: str, document: dict[str, Any] | str) -> None:
        """Give a role a trust policy as if written before IAM's identity-provider controls for shared
        OIDC providers (June 2025): IAM does not re-check such a policy until it is modified, so it
        stays assumable as it is (oidc_controls.py). Stored directly, with no propagation delay."""
        text = document if isinstance(document, str) else json.dumps(document)
        moto_private.set_trust_policy(account, role_name, text)

    def secrets(self) -> list[str]:
        """Every secret the sandbox has handed out, for leak scanning."""

        values = [p.secret_access_key for p in self.profiles.values()]
        values += moto_private.session_secrets()
        return [*values, self.issuer.mint_secret, *self.issuer.minted]

    # -- seeding ---------------------------------------------------------------------------------
    def _post(self, path: str, body: bytes) -> None:
        headers = {"Content-Type": "text/plain", CONTROL_HEADER: self._state.control_secret}
        request = urllib.request.Request(self.endpoint + path, data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def _iam(self, account: str) -> Any:
        if account not in self._seed_clients:
            self._seed_clients[account] = self._make_seed_client(account)
        return self._seed_clients[account]

    def _make_seed_client(self, account: str, service: str = "iam") -> Any:
        session = boto3.session.Session(aws_access_key_id="seed", aws_secret_access_key="seed", region_name=REGION)
        make: Callable[..., Any] = session.client
        client = make(service, endpoint_url=self.endpoint)

        def add_account_header(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-sign.*.*", add_account_header)
        return client

    def _user_with_key(self, iam: Any, user: str, admin: bool) -> tuple[str, str]:
        iam.create_user(UserName=user)
        if admin:
            iam.put_user_policy(
                UserName=user,
                PolicyName="sandbox-admin",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                    }
                ),
            )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def _seed_organization(self) -> None:
        """An organization managed from MANAGEMENT_ACCOUNT, with members in an OU (one in a child
        OU, to exercise recursion); each member has the access role the management account uses."""
        org = self._make_seed_client(MANAGEMENT_ACCOUNT, "organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        self.org_unit = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
        child = org.create_organizational_unit(ParentId=self.org_unit, Name="team")["OrganizationalUnit"]["Id"]
        for index in range(self._org_size):
            status = org.create_account(Email=f"member{index}@sandbox.test", AccountName=f"member{index}")
            account = status["CreateAccountStatus"]["AccountId"]
            parent = child if index == self._org_size - 1 else self.org_unit
            org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
            self.org_members.append(account)

    def _seed_access_roles(self) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:root"},
                           "Action": "sts:AssumeRole"}],
        }  # fmt: skip
        admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        for account in self.org_members:
            iam = self._iam(account)
            try:  # moto's CreateAccount makes the role already, as AWS does; a reset removes it
                iam.create_role(RoleName=ACCESS_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
            except iam.exceptions.EntityAlreadyExistsException:
                iam.update_assume_role_policy(RoleName=ACCESS_ROLE, PolicyDocument=json.dumps(trust))
            iam.put_role_policy(RoleName=ACCESS_ROLE, PolicyName="admin", PolicyDocument=json.dumps(admin))

    def _seed(self) -> None:
        self._post("/moto-api/reset-auth", b"inf")  # seed with authorization off
        if self._org_size and not self.org_members:
            self._seed_organization()
        self._seed_access_roles()
        a, b = self._iam(ACCOUNT_A), self._iam(ACCOUNT_B)
        seeds = [("a-admin", ACCOUNT_A, a, "admin", True), ("b-admin", ACCOUNT_B, b, "admin", True)]
        seeds.append(("ci", ACCOUNT_A, a, "ci-user", False))
        if self.org_members:
            seeds.append(("org-admin", MANAGEMENT_ACCOUNT, self._iam(MANAGEMENT_ACCOUNT), "admin", True))
        self.profiles = {}
        for profile, account, iam, user, admin in seeds:
            key_id, secret = self._user_with_key(iam, user, admin)
            self.profiles[profile] = Profile(profile, account, key_id, secret)
        self._write_profiles()
        self._post("/moto-api/reset-auth", b"0")  # from here on, every request is authorized
        self.clear_calls()  # the log is for the traffic of the tool under test, not the seeding

    def _write_profiles(self) -> None:
        datadir.secure_directory(self.directory)
        config, credentials = [], []
        for p in self.profiles.values():
            config += [
                f"[profile {p.name}]",
                f"region = {REGION}",
                f"endpoint_url = {self.endpoint}",
                "",
            ]
            credentials += [
                f"[{p.name}]",
                f"aws_access_key_id = {p.access_key_id}",
                f"aws_secret_access_key = {p.secret_access_key}",
                "",
            ]
        # 0600 from the first byte, in a file created exclusively, renamed over any planted link. The
        # config holds no key, but it names the endpoint every profile trusts: the owner's alone too.
        datadir.write_private(self.credentials_file, "\n".join(credentials))
        datadir.write_private(self.config_file, "\n".join(config))


def iter_exports(sandbox: Sandbox) -> Iterator[str]:
    for key, value in sandbox.env().items():
        yield f"export {key}={value}"

"""The sandbox's OIDC issuer: a stand-in for GitHub Actions' or GitLab's token service.

It serves, on a port of its own and over https (a self-signed certificate for 127.0.0.1, written
next to the profiles), the discovery document `/.well-known/openid-configuration` and the key set it
names (`jwks_uri`), and signs RS256 JSON web tokens with its key. Tokens for chosen claims come from
``mint`` / ``mint_token`` in-process (any claims; ``ci_claims`` shapes GitHub Actions' and HCP
Terraform's), or from the mint endpoint on the sandbox's main port (POST the claims as JSON).

By default STS (web_identity.py) verifies only tokens whose ``iss`` is this issuer's own URL. A test
can make the issuer stand in for a public one, e.g. GitHub's https://token.actions.githubusercontent.com
(``stand_in_for``): its key then verifies tokens naming that issuer, so a trust on the public
provider's ARN, with the condition keys AWS maps for that issuer, is judged end to end. The mint
endpoint signs for stand-ins too; a reset forgets them.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from bootstrap.sandbox import datadir

TOKEN_LIFETIME_S = 300  # GitHub's job tokens live minutes
# Any claim is signed (mint); the discovery document lists the ones GitHub Actions' tokens carry.
CLAIMS_SUPPORTED = ("sub", "aud", "exp", "iat", "iss", "jti", "nbf", "actor", "actor_id", "base_ref", "enterprise",
                    "enterprise_id", "environment", "event_name", "head_ref", "job_workflow_ref", "job_workflow_sha",
                    "ref", "ref_protected", "ref_type", "repository", "repository_id", "repository_owner",
                    "repository_owner_id", "repository_visibility", "run_attempt", "run_id", "run_number",
                    "runner_environment", "sha", "workflow", "workflow_ref", "workflow_sha")  # fmt: skip


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


class Issuer:
    """Signs tokens and serves its discovery document and keys over https."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        # The mint endpoint is a capability URL: only who holds the sandbox's profiles (and this) mints.
        self.mint_secret = secrets.token_urlsafe(24)
        self.minted: list[str] = []  # every token signed, for the tests' leak scanning
        self.stand_ins: set[str] = set()  # public issuers whose tokens this issuer's key signs (stand_in_for)

    # -- keys and tokens ---------------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
               "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}  # fmt: skip
        return {"keys": [key]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/.well-known/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": list(CLAIMS_SUPPORTED),
        }

    def stand_in_for(self, issuer: str) -> None:
        """Sign for ``issuer`` (an https URL such as ci_claims.GITHUB_ISSUER): STS in the sandbox
        then verifies tokens naming it with this issuer's key."""
        self.stand_ins.add(issuer.rstrip("/"))

    def forget_stand_ins(self) -> None:
        self.stand_ins.clear()

    def vouches_for(self, issuer: str) -> bool:
        """Are tokens naming ``issuer`` verified with this issuer's key (its own URL, or a stand-in)?"""
        return bool(self.url) and issuer.rstrip("/") in {self.url, *self.stand_ins}

    def mint_token(
        self, sub: str, aud: str | list[str], claims: dict[str, Any] | None = None, *, issuer: str = ""
    ) -> str:
        """A signed token for an explicit subject and audience, with any further claims; ``issuer``
        (default: this issuer's URL) may name any issuer, STS verifies it only if vouched for."""
        return self.mint(
            {**(claims or {}), "iss": issuer or (claims or {}).get("iss") or self.url, "sub": sub, "aud": aud}
        )

    def mint(self, claims: dict[str, Any]) -> str:
        """A signed token with these claims; iss, iat, nbf, exp and jti are filled in when absent."""
        now = int(time.time())
        payload = {"iss": self.url, "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_S,
                   "jti": secrets.token_hex(8), **claims}  # fmt: skip
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = f"{signing_input}.{b64url(signature)}"
        self.minted.append(token)
        return token

    def signature_valid(self, token: str) -> bool:
        """Does this issuer's key verify the token's RS256 signature?"""
        try:
            head, body, signature = token.split(".")
            header = json.loads(b64url_decode(head))
            if header.get("alg") != "RS256" or header.get("kid") != self.kid:
                return False
            self._key.public_key().verify(
                b64url_decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (ValueError, InvalidSignature):
            return False
        return True

    # -- https server --------------------------------------------------------------------------------
    def _certificate(self) -> tuple[Path, Path]:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trust-bootstrap sandbox issuer")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(self._key, hashes.SHA256())
        )
        datadir.secure_directory(self.directory)
        cert_file, key_file = self.directory / "oidc-issuer.pem", self.directory / "oidc-issuer.key"
        datadir.write_private(cert_file, cert.public_bytes(serialization.Encoding.PEM))
        datadir.write_private(  # 0600 from its first byte (no window between writing and chmod)
            key_file,
            self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        return cert_file, key_file

    @property
    def certificate_file(self) -> Path:
        return self.directory / "oidc-issuer.pem"

    def start(self) -> None:
        cert_file, key_file = self._certificate()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, ssl_context=context)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        documents = {"/.well-known/openid-configuration": self.discovery, "/.well-known/jwks": self.jwks}
        if environ.get("REQUEST_METHOD") == "GET" and path in documents:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(documents[path]()).encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def answer_mint(self, body: bytes) -> tuple[str, dict[str, Any]]:
        """The mint endpoint (on the sandbox's main port): (HTTP status, JSON answer)."""
        try:
            claims = json.loads(body or b"{}")
        except ValueError:
            return "400 Bad Request", {"error": "the body must be a JSON object of claims"}
        if not isinstance(claims, dict):
            return "400 Bad Request", {"error": "the body must be a JSON object of claims"}
        if not self.vouches_for(str(claims.get("iss", self.url))):
            named = ", ".join(sorted({self.url, *self.stand_ins}))
            return "400 Bad Request", {"error": f"this sandbox signs tokens for {named} only"}
        return "200 OK", {"token": self.mint(claims)}

"""Where a CI job's web identity token comes from, to prove a CI trust live. Never prints a token.

- a file the CI wrote (GitLab: a file variable from `id_tokens`; EKS, generic CIs): --web-identity-token-file;
- inside GitHub Actions: the job's own token, requested with the trust's audience from
  ACTIONS_ID_TOKEN_REQUEST_URL with the bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN
  (https://docs.github.com/en/actions/reference/security/oidc#methods-for-requesting-the-oidc-token;
  the job needs `permissions: id-token: write`);
- a local token minter (the sandbox offers one; TRUST_BOOTSTRAP_TOKEN_MINTER): it signs the claims the
  configured run would carry, for its own issuer only.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bootstrap.core.errors import CredentialsError, InvalidInput

MINTER_ENV = "TRUST_BOOTSTRAP_TOKEN_MINTER"
GITHUB_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
GITHUB_BEARER_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
TIMEOUT_S = 30


def read_file(path: Path) -> str:
    """The token in ``path``: ASCII text (a JWT is base64url and dots), checked before any AWS call."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidInput(f"--web-identity-token-file: cannot read {path}: {err.strerror}.") from err
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"--web-identity-token-file: {path} is not a token: byte 0x{data[err.start]:02x} at offset {err.start} "
            "is not ASCII text (a JSON web token is base64url parts joined by dots). Nothing was written."
        ) from err
    claims_of(token, f"--web-identity-token-file {path}")
    return token


def claims_of(token: str, where: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying it (AWS verifies; we only read the claims)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidInput(f"{where}: this is not a JSON web token (three dot-separated parts).")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidInput(f"{where}: the token's payload is not base64url JSON.") from err
    if not isinstance(claims, dict):
        raise InvalidInput(f"{where}: the token's payload is not a JSON object.")
    return claims


def in_github_actions() -> bool:
    return bool(os.environ.get(GITHUB_URL_ENV) and os.environ.get(GITHUB_BEARER_ENV))


def github_actions_token(audience: str) -> str:
    url = os.environ[GITHUB_URL_ENV]
    joiner = "&" if "?" in url else "?"
    # https, or plain http to this machine only: the runner's own endpoint is https; loopback http
    # is what a local fake of it (the tests' servers) serves, and never leaves the machine.
    _check_scheme(url, GITHUB_URL_ENV, loopback_ok=True)
    request = urllib.request.Request(  # noqa: S310 (https, or http on loopback: checked above)
        f"{url}{joiner}audience={urllib.parse.quote(audience, safe='')}",
        headers={"Authorization": f"bearer {os.environ[GITHUB_BEARER_ENV]}", "Accept": "application/json"},
    )
    reply = _fetch(request, "requesting the job's OIDC token from GitHub Actions")
    token = reply.get("value")
    if not isinstance(token, str):
        raise CredentialsError(
            "GitHub Actions answered without a token: does the job have 'permissions: id-token: write'?"
        )
    return token


def minter() -> str | None:
    return os.environ.get(MINTER_ENV) or None


def mint(claims: dict[str, str]) -> tuple[str | None, str]:
    """(token, "") from the local minter, or (None, why not)."""
    url = minter()
    if url is None:
        return None, "no token source"
    _check_scheme(url, MINTER_ENV, loopback_ok=True)
    body = json.dumps(claims).encode()
    request = urllib.request.Request(  # noqa: S310 (https, or http on loopback: checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        reply = _fetch(request, "minting a token")
    except CredentialsError as err:
        return None, err.message
    token = reply.get("token")
    return (token, "") if isinstance(token, str) else (None, "the minter answered without a token")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_scheme(url: str, where: str, loopback_ok: bool) -> None:
    """Tokens travel only over https (plain http only to this machine: the local minter, and local
    fakes of the Actions endpoint; loopback traffic never crosses a network)."""
    parsed = urllib.parse.urlparse(url)
    local = parsed.scheme == "http" and parsed.hostname in LOOPBACK
    if parsed.scheme != "https" and not (loopback_ok and local):
        raise InvalidInput(f"{where}: '{url}' is not an https URL; tokens are sent only over https.")


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urllib.parse.urlparse(url)
    return parsed.scheme.lower(), (parsed.hostname or "").lower(), parsed.port


class _Redirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handler copies every header of the request into the redirected one, the
    bearer token's Authorization included, whatever the new scheme or host
    (https://docs.python.org/3/library/urllib.request.html#urllib.request.HTTPRedirectHandler.redirect_request).
    Here a redirect is followed only to https (or loopback http, as above), and the Authorization
    header only to the same scheme, host and port: the rule curl and requests follow too
    (https://curl.se/docs/manpage.html#--location-trusted)."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        parsed = urllib.parse.urlparse(newurl)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in LOOPBACK):
            raise urllib.error.URLError(f"redirected to {parsed.scheme}://{parsed.hostname}, not https: not followed")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            for name in [k for k in new.headers if k.lower() == "authorization"]:
                del new.headers[name]
            new.unredirected_hdrs.pop("Authorization", None)
        return new


_OPENER = urllib.request.build_opener(_Redirects())


def _fetch(request: urllib.request.Request, what: str) -> dict[str, Any]:
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:  # https or loopback by config, redirects checked
            data = json.loads(response.read())
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:200]
        raise CredentialsError(f"{what}: HTTP {err.code} {detail}".strip()) from err
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise CredentialsError(f"{what}: {err}") from err
    if not isinstance(data, dict):
        raise CredentialsError(f"{what}: the answer is not a JSON object")
    return data

"""GitHub's REST API, read-only: a repository's numeric ID and its owner's, for the immutable subject.

`GET {api}/repos/{owner}/{repo}` answers `id` (the repository's ID) and `owner.id`
(https://docs.github.com/en/rest/repos/repos#get-a-repository); GitHub Enterprise Server serves the
same API under https://HOST/api/v3. The token comes from GITHUB_TOKEN or a file, is sent only as the
Authorization header to the API named, and is never printed or written.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bootstrap.core.errors import InvalidInput

DEFAULT_API = "https://api.github.com"
TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 (the variable's name, not a token)
TIMEOUT_S = 20


@dataclass(frozen=True)
class RepoIds:
    owner_id: str
    repo_id: str


def token(token_file: Path | None) -> str | None:
    """The token to look up with: the file's, else $GITHUB_TOKEN, else None (the IDs are then flags)."""
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise InvalidInput(f"--github-token-file: cannot read a token from {token_file}: {err}.") from err
        if not text or any(c.isspace() for c in text):
            raise InvalidInput(f"--github-token-file: {token_file} does not hold one token (one line, no spaces).")
        return text
    return os.environ.get(TOKEN_ENV) or None


def check_api_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    # http only for a local test server: a token never travels in clear text to another host.
    local = parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost")
    if not (parsed.scheme == "https" or local) or not parsed.hostname or parsed.query or parsed.fragment:
        raise InvalidInput(
            f"--github-api-url: '{url}' is not an https URL of a GitHub API (https://HOST/api/v3 for GitHub "
            "Enterprise Server)."
        )
    return url.rstrip("/")


def lookup(repo: str, bearer: str, api_url: str = DEFAULT_API) -> RepoIds:
    """The IDs of OWNER/REPO, or an InvalidInput naming why they could not be had (before any write)."""
    owner, _, name = repo.partition("/")
    url = f"{check_api_url(api_url)}/repos/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}"
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        headers={
            "Authorization": f"Bearer {bearer}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "trust-bootstrap",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
            body = json.loads(answer.read())
    except urllib.error.HTTPError as err:
        why = {401: "the token was refused", 403: "the token may not read it",
               404: "no such repository, or the token may not see it"}.get(err.code, f"HTTP {err.code}")  # fmt: skip
        raise InvalidInput(
            f"GitHub API: cannot look up the IDs of {repo} at {api_url}: {why}. Pass --github-owner-id and "
            "--github-repo-id instead. Nothing was written."
        ) from err
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise InvalidInput(
            f"GitHub API: cannot look up the IDs of {repo} at {api_url}: {err}. Pass --github-owner-id and "
            "--github-repo-id instead. Nothing was written."
        ) from err
    try:
        return RepoIds(str(int(body["owner"]["id"])), str(int(body["id"])))
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(f"GitHub API: the answer for {repo} at {api_url} holds no repository and owner ID.") from err

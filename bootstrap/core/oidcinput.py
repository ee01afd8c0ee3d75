"""Pure: the checks of OIDC input (issuers, audiences, repositories, refs, projects, subjects), each a
ValueError with the rule; config says which flag or key gave the value. Formats as cited in oidc.py."""

from __future__ import annotations

import re

from bootstrap.core import tfc
from bootstrap.core.globs import WILDCARDS, has_wildcard
from bootstrap.core.identifiers import check_one_line

_GH_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_GH_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
# GitLab: a path segment is letters, digits, '_', '-', '.'; groups nest (GROUP/SUBGROUP/PROJECT).
_GL_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?")
_DIGITS = re.compile(r"[1-9]\d{0,19}")
_AUDIENCE = re.compile(r"[\x21-\x7e]{1,255}")

# -- input checks (ValueError with the rule; config.py says which flag or key) ---------------------


def check_issuer(url: str) -> str:
    """AWS accepts only https provider URLs, without query or fragment; returns it without a trailing /."""
    check_one_line(url)
    if not url.startswith("https://"):
        raise ValueError(f"'{url}' is not an https URL: AWS accepts only https:// OIDC issuers")
    rest = url.removeprefix("https://").rstrip("/")
    host, _, _path = rest.partition("/")
    if not host or not _HOST.fullmatch(host) or any(c in rest for c in "?#@ ") or len(url) > 255:
        raise ValueError(f"'{url}' is not a valid issuer URL (https://HOST[/PATH], no query, fragment or user)")
    return "https://" + rest


def check_audience(value: str) -> str:
    check_one_line(value)
    if not _AUDIENCE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid audience (1-255 printable characters, no spaces)")
    return value


def check_github_repo(value: str, allow_org_wildcard: bool = False) -> tuple[str, str]:
    owner, sep, repo = value.partition("/")
    if not sep or "/" in repo:
        raise ValueError(f"'{value}' is not OWNER/REPO (for example octo-org/octo-repo)")
    if not _GH_OWNER.fullmatch(owner):
        raise ValueError(
            f"'{owner}' is not a GitHub owner name (letters, digits and single hyphens, at most 39, no hyphen at either end)"
        )
    if repo == "*" and allow_org_wildcard:
        return owner, repo
    if has_wildcard(repo):
        raise ValueError(
            f"'{value}' names every repository of {owner}: a wildcard over a whole organization needs "
            "--allow-org-wildcard (and is warned)"
        )
    if not _GH_REPO.fullmatch(repo) or repo in (".", ".."):
        raise ValueError(f"'{repo}' is not a GitHub repository name (letters, digits, '.', '_', '-', at most 100)")
    return owner, repo


def check_github_ref(value: str) -> str:
    check_one_line(value)
    if not value.startswith("refs/"):
        hint = f" Did you mean refs/heads/{value}?" if "/" not in value else ""
        raise ValueError(
            f"'{value}' is not a full Git ref: GitHub's sub carries refs/heads/BRANCH or refs/tags/TAG.{hint}".rstrip(
                "."
            )
        )
    if value in ("refs/", "refs/*") or value.endswith("/") or " " in value or ".." in value:
        raise ValueError(f"'{value}' is not a valid Git ref")
    return value


def check_environment(value: str) -> str:
    check_one_line(value)
    if not value or len(value) > 255 or any(c in value for c in WILDCARDS):
        raise ValueError(f"'{value}' is not an environment name (1-255 characters, no wildcard)")
    return value


def check_id(value: str) -> str:
    if not _DIGITS.fullmatch(value):
        raise ValueError(f"'{value}' is not a numeric GitHub ID")
    return value


def check_gitlab_project(value: str, allow_org_wildcard: bool = False) -> str:
    segments = value.split("/")
    if len(segments) < 2:
        raise ValueError(f"'{value}' is not GROUP/PROJECT (subgroups allowed: GROUP/SUB/PROJECT)")
    if segments[-1] == "*" and allow_org_wildcard and all(_GL_SEGMENT.fullmatch(s) for s in segments[:-1]):
        return value
    if any(has_wildcard(s) for s in segments):
        raise ValueError(
            f"'{value}' names every project of a group: a wildcard over a whole group needs --allow-org-wildcard"
        )
    for segment in segments:
        if not _GL_SEGMENT.fullmatch(segment) or segment.endswith((".git", ".atom")):
            raise ValueError(f"'{segment}' in '{value}' is not a GitLab path segment")
    return value


def check_gitlab_ref(value: str) -> str:
    check_one_line(value)
    if value.startswith("refs/"):
        raise ValueError(
            f"'{value}': GitLab's sub carries the bare branch or tag name (main, v1.2), not a refs/ path; "
            f"pass {value.split('/', 2)[-1]}"
        )
    if not value or " " in value or ".." in value:
        raise ValueError(f"'{value}' is not a branch or tag name")
    return value


def check_gitlab_host(value: str) -> str:
    host = value.removeprefix("https://").rstrip("/")
    if value.startswith("http://") or not _HOST.fullmatch(host):
        raise ValueError(f"'{value}' is not a host name (gitlab.example.com); the issuer is https://HOST")
    return host


def check_subject(value: str, allow_org_wildcard: bool = False) -> str:
    """A trust without a narrowing sub lets every repository on the platform in: refuse it."""
    check_one_line(value)
    stripped = value.strip()
    if not stripped or stripped.strip("*?") == "" or stripped in ("repo:*", "project_path:*"):
        raise ValueError(
            f"'{value}' admits any subject: a trust without a sub condition lets every repository of the platform "
            "assume the role"
        )
    if has_wildcard(stripped) and _org_wide(stripped) and not allow_org_wildcard:
        raise ValueError(
            f"'{value}' admits a whole organization or group (a wildcard in the repository or project part): "
            "pass --allow-org-wildcard if that is intended"
        )
    return stripped


def _org_wide(subject: str) -> bool:
    """Does the wildcard reach into the repository / project part (not only the ref)?"""
    if subject.startswith("repo:"):
        repo_part = subject.removeprefix("repo:").split(":", 1)[0]
        return has_wildcard(repo_part) or ":" not in subject.removeprefix("repo:")
    if subject.startswith("project_path:"):
        project_part = subject.removeprefix("project_path:").split(":", 1)[0]
        return has_wildcard(project_part) or ":" not in subject.removeprefix("project_path:")
    if tfc.is_tfc_subject(subject):  # HCP Terraform: judged by what it covers, one workspace or more
        return not tfc.confined_to_one_workspace(subject)
    return True  # an unstructured subject: any wildcard may cross owners

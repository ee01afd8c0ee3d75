"""Error translation for the aws_* layer: AWS's error codes, botocore failures -> typed errors, retries.

Every ClientError leaves the aws_* modules as a BootstrapError raised ``from`` it, with AWS's own
message and the operation's name, never with credentials. Two kinds of retry, kept apart on purpose:
- throttling and 5xx: botocore's own ``standard`` retry mode (aws.client_config), not hand-written;
- IAM propagation (a new role or principal that AWS does not see everywhere yet): ``propagation``
  below, with tenacity, an explicit deadline, jittered exponential waits and named error codes.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import tenacity
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    InvalidConfigError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from bootstrap.core.errors import (
    AwsError,
    BootstrapError,
    CredentialsError,
    NetworkError,
    UnexpectedResponse,
)

T = TypeVar("T")

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "RequestExpired",
    }
)
# What an endpoint answers for an operation it does not offer (the sandbox, some partitions).
UNAVAILABLE_CODES = frozenset({"NotImplemented", "UnknownOperationException", "InvalidAction", "501"})
# AssumeRole right after a role, its trust or the caller's grant changed: IAM has not caught up yet.
ASSUME_PROPAGATION_CODES = frozenset({"AccessDenied", "InvalidClientTokenId"})

FIRST_RETRY_MAX_S = 0.5
RETRY_CAP_S = 5.0


class AssumeRefused(AwsError):
    """STS answered an AssumeRole (or AssumeRoleWithWebIdentity) with an error: ``code`` and
    ``aws_message`` are AWS's, for callers that judge the refusal (propagation, verification)."""

    def __init__(self, message: str, code: str, aws_message: str) -> None:
        super().__init__(message, code)
        self.aws_message = aws_message

    @property
    def reason(self) -> str:
        """'Code: message', as AWS said it."""
        return f"{self.code}: {self.aws_message}"


class EvidenceUnavailable(AwsError):
    """An optional source of evidence (policy simulator, CloudTrail, Organizations) gave no usable
    answer. Its message is one clean line: never the raw body (an HTML page) of the answer."""


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", ""))


# Credentials that cannot be had: a failing credential_process, an expired SSO token, half a key.
_CREDENTIAL_FAILURES: tuple[type[Exception], ...] = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
    ProfileNotFound,
    InvalidConfigError,
)
_NETWORK_FAILURES: tuple[type[Exception], ...] = (EndpointConnectionError, HTTPClientError, BotoConnectionError)


# Still failing after botocore's retries: AWS is not serving the call right now.
UNAVAILABLE_AFTER_RETRIES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceFailure", "InternalFailure",
     "ServiceUnavailable", "InternalError"}
)  # fmt: skip


def _classify_client_error(err: ClientError, action: str) -> BootstrapError:
    code, message = error_code(err), error_message(err)
    if code in CREDENTIAL_CODES:
        return CredentialsError(
            f"{action}: the credentials were refused ({code}: {message}). Refresh them "
            "(for SSO: 'aws sso login') or check the profile."
        )
    if not code or code.isdigit():  # an HTTP status with no AWS error in the body
        return UnexpectedResponse(f"{action}: the endpoint answered HTTP {code or '?'} without an AWS error.", code)
    if code in UNAVAILABLE_AFTER_RETRIES:
        return NetworkError(f"{action}: {code}: {message}, still after botocore's retries. Re-run later.", code)
    hint = " The profile needs IAM permission for this call." if code == "AccessDenied" else ""
    return AwsError(f"{action}: {code}: {message}.{hint}", code)


def classify(err: BaseException, action: str) -> BootstrapError | None:
    """The error a user can act on for a botocore failure (None: not botocore's). ClientErrors by
    code; credentials, network and unreadable answers (ResponseParserError is not a BotoCoreError)
    each to their own exit code."""
    mapped: BootstrapError | None = None
    if isinstance(err, ClientError):
        mapped = _classify_client_error(err, action)
    elif isinstance(err, NoCredentialsError):
        mapped = CredentialsError(
            f"{action}: no AWS credentials found for this profile. Configure the profile, or log in "
            "(for SSO: 'aws sso login')."
        )
    elif isinstance(err, _CREDENTIAL_FAILURES):
        mapped = CredentialsError(f"{action}: the profile's credentials could not be obtained: {err}")
    elif isinstance(err, _NETWORK_FAILURES):
        mapped = NetworkError(
            f"{action}: cannot reach AWS ({err}), after botocore's retries. Check the network and the profile's "
            "endpoint, then re-run the same command."
        )
    elif isinstance(err, ResponseParserError):
        mapped = UnexpectedResponse(
            f"{action}: the endpoint's answer is not AWS's (unreadable: {str(err).splitlines()[0][:200]}). A proxy "
            "or captive portal may be in the way; check the profile's endpoint, then re-run."
        )
    elif isinstance(err, BotoCoreError):
        mapped = AwsError(f"{action}: {err}")
    return mapped


@contextmanager
def translate_errors(action: str, client_errors: bool = True) -> Iterator[None]:
    """Turn botocore failures into errors a user can act on, naming what we were doing.
    ``client_errors=False`` lets ClientError through, for callers in this layer that judge AWS's
    code themselves (and then raise a typed error ``from`` it)."""
    try:
        yield
    except BootstrapError:
        raise
    except ClientError:
        if not client_errors:
            raise
        raise_classified(action)
    except (BotoCoreError, ResponseParserError):
        raise_classified(action)


def raise_classified(action: str) -> NoReturn:
    """Inside an ``except``: raise the classified error ``from`` the one being handled."""
    err = sys.exc_info()[1]
    assert err is not None
    mapped = classify(err, action)
    if mapped is None:
        raise err
    raise mapped from err


@contextmanager
def gone_is_fine() -> Iterator[None]:
    """For deletes and detaches: NoSuchEntity means the goal is already reached."""
    try:
        yield
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise


def absent_if_no_such_entity(call: Callable[[], T], action: str) -> T | None:
    with translate_errors(action):
        try:
            return call()
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return None
            raise


def propagation(
    deadline_s: float,
    should_retry: Callable[[BaseException], bool],
    on_attempt: Callable[[int, float], None] | None = None,
) -> tenacity.Retrying:
    """Retry while IAM catches up: jittered exponential waits (first within 0.5 s, capped at 5 s)
    until the deadline; the last error is re-raised as it was."""
    started = time.monotonic()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_attempt is not None:
            on_attempt(state.attempt_number, time.monotonic() - started)

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(should_retry),
        wait=tenacity.wait_random_exponential(multiplier=FIRST_RETRY_MAX_S, max=RETRY_CAP_S),
        stop=tenacity.stop_before_delay(deadline_s),
        before_sleep=before_sleep,
        reraise=True,
    )


def is_invalid_principal(err: BaseException) -> bool:
    """IAM rejects a trust policy naming a principal created moments ago until it propagates."""
    return (
        isinstance(err, ClientError)
        and error_code(err) == "MalformedPolicyDocument"
        and "invalid principal" in error_message(err).lower()
    )


def clean(text: str, limit: int = 200) -> str:
    """One line of text from anything an endpoint sent: markup dropped, whitespace collapsed."""
    if "<" in text and ">" in text:
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def why_unusable(err: BaseException) -> str:  # noqa: PLR0911 (one line per kind of failure)
    # ResponseParserError is not a BotoCoreError subclass: an HTML 500 page or any non-AWS body.
    if isinstance(err, ResponseParserError):
        return "the endpoint's answer is not an AWS response (an HTML error page or a malformed body)"
    if isinstance(err, ClientError):
        code, message = error_code(err), clean(error_message(err))
        if code.isdigit() or not code:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or code or "?"
            return f"the endpoint answered HTTP {status} without an AWS error code (an HTML error page?)"
        return f"{code}: {message}" if message else code
    if isinstance(err, ReadTimeoutError):
        return "no answer in time (read timeout)"
    if isinstance(err, (EndpointConnectionError, ConnectionClosedError)):
        return "cannot reach the endpoint"
    if isinstance(err, BootstrapError):
        return clean(err.message)
    if isinstance(err, (KeyError, TypeError, ValueError)):
        return f"the answer lacks what an AWS answer holds ({type(err).__name__}: {clean(str(err), 80)})"
    return f"an unexpected answer ({type(err).__name__})"


@contextmanager
def optional_source(action: str) -> Iterator[None]:
    """For evidence a diagnosis can do without: any failure, whatever the endpoint answered,
    becomes EvidenceUnavailable with one clean line (the check that needed it says 'unknown')."""
    try:
        yield
    except BootstrapError as err:  # already says what was being done, unless AWS said nothing
        cause = err.__cause__
        odd = isinstance(cause, ClientError) and not error_code(cause).isalpha()
        message = f"{action}: {why_unusable(cause)}" if cause is not None and odd else clean(err.message, 400)
        raise EvidenceUnavailable(message) from err
    except Exception as err:  # any answer of an optional source: see the docstring
        raise EvidenceUnavailable(f"{action}: {why_unusable(err)}") from err

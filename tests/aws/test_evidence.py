"""Optional evidence (simulator, CloudTrail, Organizations): whatever the endpoint answers ends as
EvidenceUnavailable with one clean line. The sandbox tests in test_diagnose hold the same through
the CLI; these name each kind of answer, including those the sandbox cannot produce (a timeout)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from bootstrap.aws import errors as aws_errors

HTML = "<html><body><h1>500 Internal Server Error</h1><p>oops</p></body></html>"


def _client_error(code: str, message: str, status: int = 400) -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "LookupEvents")  # type: ignore[arg-type]


CASES = [
    (ResponseParserError(f"Unable to parse response ({HTML})"), "not an AWS response"),
    (_client_error("", HTML, 500), "HTTP 500 without an AWS error code"),
    (_client_error("Throttling", "Rate exceeded"), "Throttling: Rate exceeded"),
    (_client_error("SomethingNew", HTML), "SomethingNew: 500 Internal Server Error oops"),
    (ReadTimeoutError(endpoint_url="https://iam.amazonaws.com"), "read timeout"),
    (EndpointConnectionError(endpoint_url="https://iam.amazonaws.com"), "cannot reach the endpoint"),
    (KeyError("Events"), "lacks what an AWS answer holds"),
    (RuntimeError("anything"), "an unexpected answer (RuntimeError)"),
]


@pytest.mark.parametrize(("error", "words"), CASES, ids=[type(c[0]).__name__ + c[1][:12] for c in CASES])
def test_any_answer_of_an_optional_source_is_one_clean_line(error: BaseException, words: str) -> None:
    with pytest.raises(aws_errors.EvidenceUnavailable) as caught, aws_errors.optional_source("reading CloudTrail"):
        raise error
    message = caught.value.message
    assert message.startswith("reading CloudTrail: ") and words in message
    assert "<" not in message and "\n" not in message

"""S3 bucket calls in the sandbox are authorized with IAM's action names (bootstrap/sandbox/s3_actions.py),
over HTTP with boto3: HeadBucket as s3:ListBucket, and every call Terraform's aws_s3_bucket makes to
create, read and delete a plain bucket answered (no hang) and allowed by exactly its own action."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ACCOUNT_A, ACCOUNT_B, iam

BUCKET = "tf-state-probe"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ROLE = "bucket-probe"

pytestmark = pytest.mark.usefixtures("sandbox")

# Terraform's aws_s3_bucket: the reads after CreateBucket, each with the IAM action AWS authorizes it as.
TERRAFORM_READS: list[tuple[str, str]] = [
    ("head_bucket", "s3:ListBucket"),
    ("get_bucket_policy", "s3:GetBucketPolicy"),
    ("get_bucket_acl", "s3:GetBucketAcl"),
    ("get_bucket_cors", "s3:GetBucketCORS"),
    ("get_bucket_website", "s3:GetBucketWebsite"),
    ("get_bucket_versioning", "s3:GetBucketVersioning"),
    ("get_bucket_accelerate_configuration", "s3:GetAccelerateConfiguration"),
    ("get_bucket_request_payment", "s3:GetBucketRequestPayment"),
    ("get_bucket_logging", "s3:GetBucketLogging"),
    ("get_bucket_lifecycle_configuration", "s3:GetLifecycleConfiguration"),
    ("get_bucket_replication", "s3:GetReplicationConfiguration"),
    ("get_bucket_encryption", "s3:GetEncryptionConfiguration"),
    ("get_object_lock_configuration", "s3:GetBucketObjectLockConfiguration"),
    ("get_bucket_tagging", "s3:GetBucketTagging"),
    ("get_bucket_location", "s3:GetBucketLocation"),
    ("get_bucket_ownership_controls", "s3:GetBucketOwnershipControls"),
    ("get_public_access_block", "s3:GetBucketPublicAccessBlock"),
]


def _s3(credentials: dict[str, Any] | None = None, profile: str = "b-admin") -> Any:
    # One attempt per call: a refused or unanswered call shows at once instead of being retried.
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=30, read_timeout=30)
    session = boto3.Session(profile_name=profile)
    if credentials is None:
        return session.client("s3", config=config)
    return session.client(
        "s3",
        config=config,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _role_session(*statements: dict[str, Any]) -> Any:
    """An S3 client acting as a role of account B whose only policy holds these statements."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam("b-admin").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    _set_policy(*statements)
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="probe", PolicyDocument=json.dumps(grant))
    sts = boto3.Session(profile_name="ci").client("sts")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}", RoleSessionName="probe")
    return _s3(credentials["Credentials"])


def _set_policy(*statements: dict[str, Any]) -> None:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    iam("b-admin").put_role_policy(RoleName=ROLE, PolicyName="s3", PolicyDocument=json.dumps(document))


def _status(call: Callable[[], Any]) -> tuple[int, str]:
    """(HTTP status, error code) of one call; (200, "") when it succeeds."""
    try:
        answer = call()
    except ClientError as err:
        return int(err.response["ResponseMetadata"]["HTTPStatusCode"]), str(err.response["Error"]["Code"])
    return int(answer["ResponseMetadata"]["HTTPStatusCode"]), ""


def test_head_bucket_is_authorized_as_list_bucket() -> None:
    _s3().create_bucket(Bucket=BUCKET)
    s3 = _role_session({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"})
    assert _status(lambda: s3.head_bucket(Bucket=BUCKET))[0] == 403
    _set_policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET_ARN})
    assert _status(lambda: s3.head_bucket(Bucket=BUCKET)) == (200, "")
    # s3:HeadBucket is no IAM action: allowing it grants nothing
    _set_policy({"Effect": "Allow", "Action": "s3:HeadBucket", "Resource": BUCKET_ARN})
    assert _status(lambda: s3.head_bucket(Bucket=BUCKET))[0] == 403


def test_every_read_terraform_makes_is_answered_and_needs_exactly_its_own_action() -> None:
    _s3().create_bucket(Bucket=BUCKET)
    s3 = _role_session({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET_ARN})
    for operation, action in TERRAFORM_READS:
        call = functools.partial(getattr(s3, operation), Bucket=BUCKET)
        _set_policy({"Effect": "Allow", "Action": action, "Resource": BUCKET_ARN})
        status, code = _status(call)
        # allowed: an answer (200, or the 404 "no such configuration" a new bucket has), never a 403
        assert status in (200, 404), (operation, action, status, code)
        _set_policy({"Effect": "Allow", "NotAction": action, "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"]})
        assert _status(call)[0] == 403, (operation, action, "allowed without its action")


def test_create_and_delete_bucket_need_their_own_actions() -> None:
    s3 = _role_session({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET_ARN})
    assert _status(lambda: s3.create_bucket(Bucket=BUCKET))[0] == 403
    _set_policy({"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": BUCKET_ARN})
    assert _status(lambda: s3.create_bucket(Bucket=BUCKET)) == (200, "")
    assert _status(lambda: s3.delete_bucket(Bucket=BUCKET))[0] == 403
    _set_policy({"Effect": "Allow", "Action": "s3:DeleteBucket", "Resource": BUCKET_ARN})
    assert _status(lambda: s3.delete_bucket(Bucket=BUCKET)) == (204, "")


@pytest.mark.parametrize(
    ("operation", "kwargs", "action"),
    [
        ("put_bucket_encryption", {"ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}, "s3:PutEncryptionConfiguration"),
        ("put_public_access_block", {"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}}, "s3:PutBucketPublicAccessBlock"),
        ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Enabled"}}, "s3:PutBucketVersioning"),
        ("put_bucket_ownership_controls", {"OwnershipControls": {
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}, "s3:PutBucketOwnershipControls"),
    ],
    ids=["encryption", "public-access-block", "versioning", "ownership-controls"],
)  # fmt: skip
def test_the_writes_a_state_bucket_gets_need_their_iam_actions(
    operation: str, kwargs: dict[str, Any], action: str
) -> None:
    _s3().create_bucket(Bucket=BUCKET)
    s3 = _role_session({"Effect": "Allow", "NotAction": action, "Resource": BUCKET_ARN})
    assert _status(lambda: getattr(s3, operation)(Bucket=BUCKET, **kwargs))[0] == 403
    _set_policy({"Effect": "Allow", "Action": action, "Resource": BUCKET_ARN})
    assert _status(lambda: getattr(s3, operation)(Bucket=BUCKET, **kwargs))[0] == 200

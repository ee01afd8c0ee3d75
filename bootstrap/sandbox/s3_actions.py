"""The IAM action each S3 operation is authorized as, where it is not the operation's own name.

With authorization on, moto authorizes an S3 request as ``s3:`` + the API operation it matched
(HeadBucket, GetBucketEncryption, ...). IAM's actions are not the operations' names for many of them:
a policy granting the real action was refused, and one granting the operation's name (no IAM action)
was honoured. The worst case: AWS authorizes HeadBucket as s3:ListBucket
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html, "Permissions"); moto asked for
``s3:HeadBucket``, so a role allowed s3:ListBucket got 403 and Terraform's AWS provider retried
HeadBucket for minutes after CreateBucket, waiting for the bucket to appear.

The pairs below are from the S3 user guide's "Required permissions for Amazon S3 API operations"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html) and the
Service Authorization Reference for S3
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html), also stated
in each operation's API reference page (e.g. GetBucketEncryption: "s3:GetEncryptionConfiguration").
A Delete* of a bucket subresource needs its Put* action. Operations not listed are authorized as
their own name, which is right for them (GetBucketPolicy, GetBucketAcl, GetBucketWebsite,
GetBucketVersioning, GetBucketRequestPayment, GetBucketLogging, GetBucketTagging, GetBucketLocation,
CreateBucket, DeleteBucket, ...). Every call Terraform's aws_s3_bucket makes to create, read and
delete a plain bucket is thus asked with its real action: CreateBucket, HeadBucket, GetBucketPolicy,
GetBucketAcl, GetBucketCors, GetBucketWebsite, GetBucketVersioning, GetBucketAccelerateConfiguration,
GetBucketRequestPayment, GetBucketLogging, GetBucketLifecycleConfiguration, GetBucketReplication,
GetBucketEncryption, GetObjectLockConfiguration, GetBucketTagging, DeleteBucket.
"""

from __future__ import annotations

# S3 API operation -> the IAM action (without "s3:") AWS authorizes it as
IAM_ACTIONS: dict[str, str] = {
    # buckets
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBuckets": "ListAllMyBuckets",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    # objects
    "HeadObject": "GetObject",
    "SelectObjectContent": "GetObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListParts": "ListMultipartUploadParts",
    "DeleteObjects": "DeleteObject",
}


def iam_action(operation: str) -> str:
    """The IAM action (without "s3:") AWS authorizes this S3 operation as."""
    return IAM_ACTIONS.get(operation, operation)

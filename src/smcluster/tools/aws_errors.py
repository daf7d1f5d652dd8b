"""What to do about an AWS error, by its kind: credentials, region, network, names, limits.

The AWS commands (`launch-*`, `leaderboard`, `lineage`, `compare-jobs`) print botocore's message
followed by a Fix that fits it, rather than one piece of advice for every failure.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

CREDENTIALS = (
    "configure credentials (`aws configure`, an instance or task role, or --profile) for the "
    "account that holds the jobs."
)
DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
}
THROTTLED_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException"}


def aws_fix(error: BotoCoreError | ClientError) -> str:
    """The Fix for one botocore or service error."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return CREDENTIALS
    if isinstance(error, NoRegionError):
        return "set a region: --region, AWS_DEFAULT_REGION, or `aws configure`."
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return (
            "the SageMaker endpoint could not be reached: check the network or proxy (in a "
            "private subnet, a VPC endpoint for SageMaker's API) and that the region is right."
        )
    if isinstance(error, ParamValidationError):
        return "correct the value the message names (the flags that set it are in --help)."
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code in DENIED_CODES:
            return (
                "the credentials were refused or lack permission: refresh them, and check that "
                "the identity may call SageMaker (for example AmazonSageMakerFullAccess)."
            )
        if code in THROTTLED_CODES:
            return "SageMaker is throttling requests: wait a minute and run the command again."
        if code == "ResourceLimitExceeded":
            return (
                "a service quota is reached: pick another instance type or fewer parallel jobs, "
                "or request a quota increase (Service Quotas, Amazon SageMaker)."
            )
        if code == "ResourceNotFound" or "could not find" in message.lower():
            return "check the name and the region: job names belong to one account and region."
    return "check the names and values given, and the region."

"""The Fix printed for each kind of AWS service error (botocore's own exception objects)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from smcluster.tools.aws_errors import aws_fix


def _service_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeTrainingJob")


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (_service_error("ValidationException", "Could not find training job 'a'"), "the region"),
        (_service_error("ExpiredTokenException"), "refused or lack permission"),
        (_service_error("AccessDeniedException"), "refused or lack permission"),
        (_service_error("ThrottlingException"), "throttling"),
        (_service_error("ResourceLimitExceeded"), "service quota"),
        (_service_error("ValidationException", "Value 'x' at 'roleArn'"), "names and values"),
        (ParamValidationError(report="Invalid length for parameter RoleArn"), "the value"),
    ],
)
def test_each_kind_of_error_gets_its_own_fix(error: Exception, advice: str) -> None:
    assert advice in aws_fix(error)  # type: ignore[arg-type]

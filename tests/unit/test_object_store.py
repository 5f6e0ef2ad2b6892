"""S3 settings from the standard AWS variables, and errors that never carry a secret."""

import pytest

from mixpeek_tasks.snapshot.object_store import describe, s3_filesystem

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _settings(fs) -> dict:
    kwargs = fs.__reduce__()[1][0]  # what the filesystem was built with
    return {key: kwargs[key] for key in ("endpoint_override", "scheme", "region")}


@pytest.mark.parametrize(("variables", "expected"), [
    ({}, {"endpoint_override": "", "scheme": "https", "region": "eu-west-1"}),
    ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"},
     {"endpoint_override": "127.0.0.1:9000", "scheme": "http", "region": "eu-west-1"}),
    ({"AWS_ENDPOINT_URL": "https://minio.internal/s3/"},
     {"endpoint_override": "minio.internal/s3", "scheme": "https", "region": "eu-west-1"}),
    # The S3-specific variable wins over the general one, as in the AWS SDKs.
    ({"AWS_ENDPOINT_URL": "http://general:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2"},
     {"endpoint_override": "s3only:2", "scheme": "http", "region": "eu-west-1"}),
    ({"AWS_REGION": "us-west-2"},
     {"endpoint_override": "", "scheme": "https", "region": "us-west-2"}),
])
def test_the_endpoint_and_region_come_from_the_aws_variables(monkeypatch, variables, expected):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert _settings(s3_filesystem()) == expected


@pytest.mark.parametrize(("secret", "message", "described"), [
    (SECRET, f"AWS Error ACCESS_DENIED: signature of {SECRET} refused\nDetails: more",
     "AWS Error ACCESS_DENIED: signature of *** refused"),
    ("y", "Could not connect to server", "Could not connect to server"),  # too short to mask
    (SECRET, "", "OSError"),
])
def test_an_error_is_described_in_one_line_without_the_secret(monkeypatch, secret, message,
                                                              described):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    assert describe(OSError(message)) == described

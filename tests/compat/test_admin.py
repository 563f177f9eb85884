"""Tags (TagResource, UntagResource, ListTagsOfResource), DescribeLimits, DescribeEndpoints,
point-in-time recovery (UpdateContinuousBackups, DescribeContinuousBackups) and the unsigned
health check.

DynamoDB Local implements no tagging ("Tagging is not currently supported in DynamoDB Local.")
and no continuous backups (UnknownOperationException), so those tests are aws_only: their texts
are the live service's, as recorded by the ACK DynamoDB quirks catalogue and dynalite."""

import datetime
import json
import urllib.request

import pytest

from compat_helpers import REGION, raises_client_error, unique_name
from test_protocol import Raw, error_type

NO_TAGGING = "DynamoDB Local has no tagging"
NO_BACKUPS = "DynamoDB Local has no continuous backups"


def arn_of(ddb, name):
    return ddb.describe_table(TableName=name)["Table"]["TableArn"]


def tags_of(ddb, arn):
    answer = ddb.list_tags_of_resource(ResourceArn=arn)
    assert "NextToken" not in answer
    return {t["Key"]: t["Value"] for t in answer["Tags"]}


# ---------------------------------------------------------------------------------------------
# Tags


@pytest.mark.aws_only(reason=NO_TAGGING)
def test_tag_untag_list(ddb, table):
    name = table(range=None, Tags=[{"Key": "team", "Value": "messaging"}])
    arn = arn_of(ddb, name)
    assert tags_of(ddb, arn) == {"team": "messaging"}
    ddb.tag_resource(
        ResourceArn=arn,
        Tags=[
            {"Key": "env", "Value": "dev"},
            {"Key": "team", "Value": "web"},  # an existing key takes the new value
            {"Key": "empty", "Value": ""},
            {"Key": "a b+c-d=e.f_g:h/i@j", "Value": "ключ café 表"},
        ],
    )
    assert tags_of(ddb, arn) == {
        "team": "web",
        "env": "dev",
        "empty": "",
        "a b+c-d=e.f_g:h/i@j": "ключ café 表",
    }
    # Keys the table does not have are ignored.
    ddb.untag_resource(ResourceArn=arn, TagKeys=["env", "absent"])
    assert tags_of(ddb, arn) == {
        "team": "web",
        "empty": "",
        "a b+c-d=e.f_g:h/i@j": "ключ café 表",
    }
    # Tags are not part of DescribeTable.
    assert "Tags" not in ddb.describe_table(TableName=name)["Table"]


@pytest.mark.aws_only(reason=NO_TAGGING)
def test_fifty_tags_counted_after_merging(ddb, table):
    arn = arn_of(ddb, table(range=None))
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i:02}", "Value": "v"} for i in range(50)])
    limit = "Number of Tags exceed the current limit for the provided ResourceArn"
    with raises_client_error("ValidationException", limit):
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k50", "Value": "v"}])
    with raises_client_error("ValidationException", limit):
        ddb.tag_resource(
            ResourceArn=arn, Tags=[{"Key": "k00", "Value": "new"}, {"Key": "k50", "Value": "v"}]
        )
    # Replacing values of existing keys stays within the limit.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i:02}", "Value": "w"} for i in range(50)])
    assert set(tags_of(ddb, arn).values()) == {"w"}
    with raises_client_error("ValidationException", limit):
        ddb.untag_resource(ResourceArn=arn, TagKeys=[f"x{i}" for i in range(51)])


@pytest.mark.aws_only(reason=NO_TAGGING)
def test_tag_validation_is_all_or_nothing(ddb, unchecked, table):
    arn = arn_of(ddb, table(range=None))

    def rejected(tags, message):
        with raises_client_error("ValidationException", message):
            unchecked.tag_resource(ResourceArn=arn, Tags=tags)

    good = {"Key": "good", "Value": "v"}
    rejected([], "Atleast one Tag needs to be provided as Input.")
    bad_key = "The Tag Key provided is invalid, Key: "
    bad_value = "The Tag Value provided is invalid, Value: "
    rejected([good, {"Key": "k" * 129, "Value": "v"}], bad_key + "k" * 129)
    rejected([good, {"Key": "", "Value": "v"}], bad_key)
    rejected([{"Value": "v"}], bad_key + "null")
    rejected([{"Key": "k"}], bad_value + "null")
    rejected([{"Key": "k", "Value": "v" * 257}], bad_value + "v" * 257)
    rejected([{"Key": "k", "Value": "100%"}], bad_value + "100%")
    rejected([{"Key": "a,b", "Value": "v"}], bad_key + "a,b")
    rejected([{"Key": "k", "Value": "\U0001f511"}], bad_value + "\U0001f511")
    rejected(
        [good, {"Key": "aws:zzz", "Value": "v"}],
        "Tag Key cannot be prefixed with aws:, Key: aws:zzz",
    )
    rejected(
        [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
        "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup",
    )
    assert tags_of(ddb, arn) == {}
    # 128-character keys and 256-character values are fine.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    with raises_client_error(
        "ValidationException", "Atleast one Tag Key needs to be provided as Input."
    ):
        unchecked.untag_resource(ResourceArn=arn, TagKeys=[])
    with raises_client_error("ValidationException", bad_key + "k" * 129):
        unchecked.untag_resource(ResourceArn=arn, TagKeys=["k" * 129])


@pytest.mark.aws_only(reason=NO_TAGGING)
def test_resource_arns(ddb, unchecked, table):
    name = table(gsis=[("by_g", ("g", "S"))])
    arn = arn_of(ddb, name)
    account = arn.split(":")[4]
    tag = [{"Key": "k", "Value": "v"}]
    with raises_client_error("ValidationException", "Invalid TableArn"):
        unchecked.list_tags_of_resource()
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: ARNs must start with 'arn:': I_do_not_exist",
    ):
        ddb.tag_resource(ResourceArn="I_do_not_exist", Tags=tag)
    sqs = f"arn:aws:sqs:{REGION}:{account}:queue"
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: "
        + sqs,
    ):
        ddb.list_tags_of_resource(ResourceArn=sqs)
    index_arn = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]["IndexArn"]
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: Invalid resource arn provided, only table or "
        "stream is accepted. Provided resource arn: " + index_arn,
    ):
        ddb.tag_resource(ResourceArn=index_arn, Tags=tag)
    for bad in (
        f"arn:aws:dynamodb:{REGION}:{account}",
        f"arn:aws:dynamodb:{REGION}:{account}:table/ab",
        f"arn:aws:dynamodb:eu-west-3:{account}:table/{name}",
    ):
        with raises_client_error(
            "ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input " + bad
        ):
            ddb.list_tags_of_resource(ResourceArn=bad)
    missing = f"arn:aws:dynamodb:{REGION}:{account}:table/{unique_name('nope')}"
    text = f"Requested resource not found: ResourcArn: {missing} not found"
    for call in (
        lambda: ddb.list_tags_of_resource(ResourceArn=missing),
        lambda: ddb.tag_resource(ResourceArn=missing, Tags=tag),
        lambda: ddb.untag_resource(ResourceArn=missing, TagKeys=["k"]),
    ):
        with raises_client_error("ResourceNotFoundException", text):
            call()


@pytest.mark.aws_only(reason=NO_TAGGING)
def test_aws_cli_tags(ddb, table, aws_cli):
    arn = arn_of(ddb, table(range=None))
    aws_cli.run(
        "dynamodb", "tag-resource", "--resource-arn", arn, "--tags", "Key=Owner,Value=blueTeam"
    )
    listed = aws_cli.json("dynamodb", "list-tags-of-resource", "--resource-arn", arn)
    assert listed["Tags"] == [{"Key": "Owner", "Value": "blueTeam"}]
    aws_cli.run("dynamodb", "untag-resource", "--resource-arn", arn, "--tag-keys", "Owner")
    assert aws_cli.json("dynamodb", "list-tags-of-resource", "--resource-arn", arn)["Tags"] == []


# ---------------------------------------------------------------------------------------------
# Limits and endpoints


def test_describe_limits(ddb):
    answer = ddb.describe_limits()
    answer.pop("ResponseMetadata")
    assert answer == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }


@pytest.mark.aws_only(reason="DynamoDB Local does not implement DescribeEndpoints")
def test_describe_endpoints(ddb):
    assert ddb.describe_endpoints()["Endpoints"] == [
        {"Address": f"dynamodb.{REGION}.amazonaws.com", "CachePeriodInMinutes": 1440}
    ]


# ---------------------------------------------------------------------------------------------
# Point-in-time recovery


@pytest.mark.aws_only(reason=NO_BACKUPS)
def test_point_in_time_recovery(ddb, table):
    name = table(range=None)
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    answer = ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]
    pitr = answer["PointInTimeRecoveryDescription"]
    assert answer["ContinuousBackupsStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr.get("RecoveryPeriodInDays", 35) == 35  # older botocore models lack the member
    earliest = pitr["EarliestRestorableDateTime"]
    assert before <= earliest <= datetime.datetime.now(datetime.timezone.utc)
    assert pitr["LatestRestorableDateTime"] >= earliest
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"] == earliest

    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}


@pytest.mark.aws_only(reason=NO_BACKUPS)
def test_point_in_time_recovery_errors(ddb, endpoint, table):
    name = table(range=None)
    raw = Raw(endpoint)  # RecoveryPeriodInDays is newer than some botocore models

    def refused(days, enabled):
        spec = {"PointInTimeRecoveryEnabled": enabled, "RecoveryPeriodInDays": days}
        status, _, data = raw.call(
            "UpdateContinuousBackups",
            {"TableName": name, "PointInTimeRecoverySpecification": spec},
        )
        assert status == 400
        name_of_error, doc = error_type(data)
        assert name_of_error == "ValidationException"
        return doc.get("Message", doc.get("message"))

    assert refused(10, False) == (
        "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
        "recovery."
    )
    assert "recoveryPeriodInDays" in refused(36, True)
    status, _, data = raw.call(
        "UpdateContinuousBackups",
        {
            "TableName": name,
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": 7,
            },
        },
    )
    assert status == 200
    pitr = json.loads(data)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["RecoveryPeriodInDays"] == 7
    missing = unique_name("nope")
    # AWS names the type TableNotFoundException; this engine's error codes have no such entry
    # yet and answer ResourceNotFoundException with the same text.
    for call in (
        lambda: ddb.describe_continuous_backups(TableName=missing),
        lambda: ddb.update_continuous_backups(
            TableName=missing,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        ),
    ):
        with pytest.raises(ddb.exceptions.ClientError) as info:
            call()
        error = info.value.response["Error"]
        assert error["Code"] in ("TableNotFoundException", "ResourceNotFoundException")
        assert error["Message"] == f"Table not found: {missing}"


# ---------------------------------------------------------------------------------------------
# Health check


@pytest.mark.aws_only(reason="DynamoDB Local refuses unsigned requests, even GET /")
def test_unsigned_health_check(endpoint):
    with urllib.request.urlopen(endpoint + "/", timeout=10) as response:
        assert response.status == 200
        assert response.read().decode() == f"healthy: dynamodb.{REGION}.amazonaws.com "

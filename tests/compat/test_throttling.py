"""`cruddur dynamodb --inject-throttling N`: a throttled engine for testing clients' retries.
boto3's own retries get through it; without retries the throttling error is what a caller sees."""

import boto3
import botocore.config
import pytest

from compat_helpers import ACCESS_KEY, REGION, SECRET_KEY, raises_client_error

pytestmark = pytest.mark.own_server


def client(endpoint, attempts):
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(retries={"max_attempts": attempts, "mode": "standard"}),
    )


def test_boto3_retries_get_through_and_single_attempts_see_the_error(spawn_server):
    server = spawn_server("--in-memory", "--inject-throttling", "2")
    ddb = client(server.endpoint, attempts=5)
    ddb.create_table(  # control plane: never throttled
        TableName="throttled", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    for i in range(5):
        response = ddb.put_item(TableName="throttled", Item={"pk": {"S": f"k{i}"}})
        assert response["ResponseMetadata"]["RetryAttempts"] >= 1
    assert ddb.scan(TableName="throttled")["Count"] == 5

    once = client(server.endpoint, attempts=1)
    refused = 0
    for _ in range(3):
        try:
            once.get_item(TableName="throttled", Key={"pk": {"S": "k0"}})
        except once.exceptions.ProvisionedThroughputExceededException as e:
            refused += 1
            assert "provisioned throughput for the table was exceeded" in str(e)
    assert refused == 2  # two of every three
    with raises_client_error("ProvisionedThroughputExceededException"):
        for _ in range(3):
            once.get_item(TableName="throttled", Key={"pk": {"S": "k0"}})

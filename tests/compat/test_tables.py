"""CreateTable / DescribeTable / ListTables / DeleteTable."""

import re

import pytest

from compat_helpers import Texts, raises_client_error, unique_name, wait_active

KS_PK = [{"AttributeName": "pk", "KeyType": "HASH"}]
KS_PK_SK = KS_PK + [{"AttributeName": "sk", "KeyType": "RANGE"}]
AD_PK = [{"AttributeName": "pk", "AttributeType": "S"}]
AD_SK = [{"AttributeName": "sk", "AttributeType": "S"}]
AD_G = [{"AttributeName": "g", "AttributeType": "S"}]
PT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def gsi(name="by-g", projection=None, **extra):
    spec = {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": projection or {"ProjectionType": "ALL"},
    }
    spec.update(extra)
    return spec


@pytest.fixture
def create(ddb, table_names):
    """create(**params) with a fresh unique TableName registered for cleanup."""

    def go(**params):
        name = params.pop("TableName", None) or unique_name("tbl")
        table_names.append(name)
        return ddb.create_table(TableName=name, **params)

    return go


# ---------------------------------------------------------------------------------------------
# CreateTable validation


# Live AWS texts for CreateTable's key checks: aws-cloudformation/cfn-lint#1037 (AWS CLI output),
# dynalite validations/createTable.js and its test/createTable.js.


def test_range_key_missing_from_attribute_definitions(create):
    with raises_client_error("ValidationException", Texts(
            aws="Invalid KeySchema: Some index key attribute have no definition",
            local="Range Key not specified in Attribute Definitions.  Type unknown.")):
        create(KeySchema=KS_PK_SK, AttributeDefinitions=AD_PK, BillingMode="PAY_PER_REQUEST")


def test_hash_key_missing_from_attribute_definitions(create):
    with raises_client_error("ValidationException"):
        create(KeySchema=KS_PK, AttributeDefinitions=AD_SK, BillingMode="PAY_PER_REQUEST")


def test_unused_attribute_definition(create):
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Number of attributes in KeySchema "
                "does not exactly match number of attributes defined in AttributeDefinitions",
            local="The number of attributes in key schema must match the number of attributes "
                  "defined in attribute definitions.")):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK + [{"AttributeName": "x", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


@pytest.mark.parametrize("bad_type", ["BOOL", "SS", "M", "X"])
def test_bad_key_attribute_type(create, bad_type):
    with raises_client_error("ValidationException", match="Member must satisfy enum value set"):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": bad_type}],
            BillingMode="PAY_PER_REQUEST",
        )


def test_two_hash_keys(create):
    with raises_client_error("ValidationException", Texts(
            aws="Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            local="Too many hash keys specified.  All Dynamo DB tables must have exactly one "
                  "hash key")):
        create(
            KeySchema=KS_PK + [{"AttributeName": "sk", "KeyType": "HASH"}],
            AttributeDefinitions=AD_PK + AD_SK,
            BillingMode="PAY_PER_REQUEST",
        )


def test_range_key_first(create):
    with raises_client_error("ValidationException", Texts(
            aws="Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            local="Invalid key order. Hash Key must be specified first in key schema, Range Key "
                  "must be specifed second")):
        create(
            KeySchema=[KS_PK_SK[1], KS_PK_SK[0]],
            AttributeDefinitions=AD_PK + AD_SK,
            BillingMode="PAY_PER_REQUEST",
        )


def test_invalid_table_name_characters(ddb):
    with raises_client_error("ValidationException", Texts(
            aws="1 validation error detected: Value 'compat-bad$name' at 'tableName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z0-9_.-]+",
            local="Invalid table/index name.  Table/index names must be between 3 and 255 "
                  "characters long, and may contain only the characters a-z, A-Z, 0-9, '_', "
                  "'-', and '.'")):
        ddb.create_table(
            TableName="compat-bad$name",
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK,
            BillingMode="PAY_PER_REQUEST",
        )


def test_provisioned_requires_throughput(create):
    with raises_client_error("ValidationException"):
        create(KeySchema=KS_PK, AttributeDefinitions=AD_PK, BillingMode="PROVISIONED")


def test_default_billing_mode_is_provisioned_and_requires_throughput(create):
    with raises_client_error("ValidationException"):
        create(KeySchema=KS_PK, AttributeDefinitions=AD_PK)


# DynamoDB Local accepts (and ignores) ProvisionedThroughput on a PAY_PER_REQUEST table; AWS
# rejects it: "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when
# BillingMode is PAY_PER_REQUEST".
@pytest.mark.aws_only
def test_pay_per_request_forbids_throughput(create):
    with raises_client_error("ValidationException", match="PAY_PER_REQUEST"):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK,
            BillingMode="PAY_PER_REQUEST",
            ProvisionedThroughput=PT,
        )


# Same difference for an index: AWS says "ProvisionedThroughput should not be specified for
# index: <name> when BillingMode is PAY_PER_REQUEST"; DynamoDB Local accepts it.
@pytest.mark.aws_only
def test_pay_per_request_forbids_gsi_throughput(create):
    with raises_client_error("ValidationException", match="PAY_PER_REQUEST"):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK + AD_G,
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[gsi(ProvisionedThroughput=PT)],
        )


def test_gsi_key_missing_from_attribute_definitions(create):
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Some index key attributes are not "
                "defined in AttributeDefinitions. Keys: [g], AttributeDefinitions: [pk]",
            local="Attribute g is not defined in AttributeDefinitions")):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK,
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[gsi()],
        )


def test_gsi_on_provisioned_table_requires_throughput(create):
    # awsdocs/amazon-dynamodb-developer-guide#246 (AWS CLI against AWS).
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: ProvisionedThroughput is not "
                "specified for index: by-g",
            local="No provisioned throughput specified for the global secondary index")):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK + AD_G,
            ProvisionedThroughput=PT,
            GlobalSecondaryIndexes=[gsi()],
        )


def test_gsi_duplicate_names(create):
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Duplicate index name: by-g",
            local="Two global secondary indices have the same name")):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK + AD_G,
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[gsi(), gsi()],
        )


def test_gsi_include_projection_needs_non_key_attributes(create):
    # Live AWS text quoted in nubo-db/dynoxide#116.
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: ProjectionType is INCLUDE, but "
                "NonKeyAttributes is not specified",
            local="If Projection type INCLUDE is specified, some non-key attributes to include "
                  "in the projection must be specified as well")):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK + AD_G,
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[gsi(projection={"ProjectionType": "INCLUDE"})],
        )


def test_gsi_non_key_attributes_only_with_include(create):
    # Live AWS text quoted in cloudposse/terraform-aws-dynamodb#39.
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: ProjectionType is ALL, but "
                "NonKeyAttributes is specified",
            local="No attributes should be specified to be projected unless projection type is "
                  "INCLUDE")):
        create(
            KeySchema=KS_PK,
            AttributeDefinitions=AD_PK + AD_G,
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                gsi(projection={"ProjectionType": "ALL", "NonKeyAttributes": ["a"]})
            ],
        )


def test_duplicate_table(create, ddb):
    name = unique_name("dup")
    create(TableName=name, KeySchema=KS_PK, AttributeDefinitions=AD_PK,
           BillingMode="PAY_PER_REQUEST")
    with raises_client_error("ResourceInUseException"):
        ddb.create_table(
            TableName=name, KeySchema=KS_PK, AttributeDefinitions=AD_PK,
            BillingMode="PAY_PER_REQUEST",
        )


# ---------------------------------------------------------------------------------------------
# CreateTable / DescribeTable output

ARN_RE = r"arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/"


def test_create_table_response_and_describe(create, ddb):
    name = unique_name("desc")
    resp = create(
        TableName=name,
        KeySchema=KS_PK_SK,
        AttributeDefinitions=AD_PK + AD_SK,
        BillingMode="PAY_PER_REQUEST",
    )
    created = resp["TableDescription"]
    assert created["TableName"] == name
    assert created["KeySchema"] == KS_PK_SK
    assert created["TableStatus"] in ("CREATING", "ACTIVE")
    desc = wait_active(ddb, name)
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["KeySchema"] == KS_PK_SK
    assert sorted(desc["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == AD_PK + AD_SK
    assert re.fullmatch(ARN_RE + re.escape(name), desc["TableArn"]), desc["TableArn"]
    assert desc["ItemCount"] == 0
    assert desc["TableSizeBytes"] == 0
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "CreationDateTime" in desc
    assert "GlobalSecondaryIndexes" not in desc


# DynamoDB Local puts the pseudo-region "ddblocal" in every ARN; AWS uses the request's region.
@pytest.mark.aws_only
def test_table_arn_uses_region(table, ddb):
    name = table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert re.fullmatch(r"arn:aws:dynamodb:us-east-1:\d{12}:table/" + re.escape(name), arn)


def test_describe_provisioned_table(create, ddb):
    name = unique_name("prov")
    create(TableName=name, KeySchema=KS_PK, AttributeDefinitions=AD_PK, ProvisionedThroughput=PT)
    desc = wait_active(ddb, name)
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    # A provisioned table created without BillingMode reports no PAY_PER_REQUEST summary.
    assert desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"


def test_describe_gsi(create, ddb):
    name = unique_name("gsi")
    create(
        TableName=name,
        KeySchema=KS_PK,
        AttributeDefinitions=AD_PK + AD_G + [{"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "g-n-index",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "n", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
            },
            gsi("g-keys", projection={"ProjectionType": "KEYS_ONLY"}),
        ],
    )
    desc = wait_active(ddb, name)
    indexes = {g["IndexName"]: g for g in desc["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"g-n-index", "g-keys"}
    inc = indexes["g-n-index"]
    assert inc["IndexStatus"] == "ACTIVE"
    assert inc["KeySchema"] == [
        {"AttributeName": "g", "KeyType": "HASH"},
        {"AttributeName": "n", "KeyType": "RANGE"},
    ]
    assert inc["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(inc["Projection"]["NonKeyAttributes"]) == ["a", "b"]
    assert inc["IndexArn"] == desc["TableArn"] + "/index/g-n-index"
    assert inc["ItemCount"] == 0
    assert inc["IndexSizeBytes"] == 0
    assert indexes["g-keys"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert indexes["g-keys"]["IndexArn"] == desc["TableArn"] + "/index/g-keys"


# AWS refreshes ItemCount/TableSizeBytes only about every six hours; DynamoDB Local (and our
# server) report live values. The sizes follow the documented item size rule: attribute
# name bytes plus value bytes.
def test_item_count_and_size_after_put(table, ddb):
    name = table(range=None)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "x": {"S": "hello"}})
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["ItemCount"] == 1
    assert desc["TableSizeBytes"] == len("pk") + len("a") + len("x") + len("hello")


# DescribeTable and DeleteTable name the table; data operations do not (dynalite db/index.js
# getTable, actions/deleteTable.js).
def missing_table_texts(name=None):
    aws = "Requested resource not found"
    if name is not None:
        aws += f": Table: {name} not found"
    return Texts(aws=aws, local="Cannot do operations on a non-existent table")


def test_describe_missing_table(ddb):
    name = unique_name("missing")
    with raises_client_error("ResourceNotFoundException", missing_table_texts(name)):
        ddb.describe_table(TableName=name)


# ---------------------------------------------------------------------------------------------
# ListTables


def test_list_tables_paging(create, ddb):
    stem = unique_name("list")
    names = [f"{stem}-{i}" for i in range(5)]
    for n in names:
        create(TableName=n, KeySchema=KS_PK, AttributeDefinitions=AD_PK,
               BillingMode="PAY_PER_REQUEST")
    # The endpoint may hold other tables; page through all of them, two at a time.
    seen = []
    kwargs = {"Limit": 2}
    pages = 0
    while True:
        resp = ddb.list_tables(**kwargs)
        pages += 1
        assert len(resp["TableNames"]) <= 2
        seen.extend(resp["TableNames"])
        if "LastEvaluatedTableName" not in resp:
            break
        assert resp["LastEvaluatedTableName"] == resp["TableNames"][-1]
        kwargs["ExclusiveStartTableName"] = resp["LastEvaluatedTableName"]
        assert pages < 10000
    assert seen == sorted(seen), "ListTables returns names in ascending order"
    assert len(seen) == len(set(seen))
    ours = [n for n in seen if n.startswith(stem)]
    assert ours == names


def test_list_tables_exclusive_start(create, ddb):
    stem = unique_name("lstart")
    names = [f"{stem}-{i}" for i in range(3)]
    for n in names:
        create(TableName=n, KeySchema=KS_PK, AttributeDefinitions=AD_PK,
               BillingMode="PAY_PER_REQUEST")
    resp = ddb.list_tables(ExclusiveStartTableName=names[0], Limit=2)
    assert resp["TableNames"] == names[1:]
    # The start name need not exist: listing continues after where it would sort.
    resp = ddb.list_tables(ExclusiveStartTableName=names[0] + "-", Limit=1)
    assert resp["TableNames"] == [names[1]]


def test_list_tables_limit_over_100(ddb):
    # dynalite validations/listTables.js.
    with raises_client_error("ValidationException", Texts(
            aws="1 validation error detected: Value '101' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 100",
            local="Limit in ListTables must be <= 100")):
        ddb.list_tables(Limit=101)


# ---------------------------------------------------------------------------------------------
# DeleteTable


def test_delete_table_then_use(table, ddb):
    name = table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    resp = ddb.delete_table(TableName=name)
    assert resp["TableDescription"]["TableName"] == name
    assert resp["TableDescription"]["TableStatus"] in ("DELETING", "ACTIVE")
    with raises_client_error("ResourceNotFoundException", missing_table_texts()):
        ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    with raises_client_error("ResourceNotFoundException", missing_table_texts()):
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    with raises_client_error("ResourceNotFoundException", missing_table_texts(name)):
        ddb.describe_table(TableName=name)
    with raises_client_error("ResourceNotFoundException", missing_table_texts(name)):
        ddb.delete_table(TableName=name)
    assert name not in ddb.list_tables(ExclusiveStartTableName=name[:-1], Limit=5)["TableNames"]


def test_recreate_after_delete_is_empty(create, ddb):
    name = unique_name("recreate")
    create(TableName=name, KeySchema=KS_PK, AttributeDefinitions=AD_PK,
           BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    ddb.delete_table(TableName=name)
    ddb.create_table(TableName=name, KeySchema=KS_PK, AttributeDefinitions=AD_PK,
                     BillingMode="PAY_PER_REQUEST")
    wait_active(ddb, name)
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    assert ddb.scan(TableName=name)["Count"] == 0

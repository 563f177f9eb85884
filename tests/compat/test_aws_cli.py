"""The AWS CLI v2 (/usr/bin/aws) against the endpoint, as a person would type it."""

import json

from compat_helpers import unique_name, wait_active


def test_cli_table_lifecycle(ddb, aws_cli, table_names):
    name = unique_name("cli")
    table_names.append(name)
    out = aws_cli.json(
        "dynamodb", "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "AttributeName=sk,AttributeType=N",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
        "--billing-mode", "PAY_PER_REQUEST",
    )
    assert out["TableDescription"]["TableName"] == name
    wait_active(ddb, name)

    item = {"pk": {"S": "p"}, "sk": {"N": "2"}, "msg": {"S": "two"}}
    assert aws_cli.json("dynamodb", "put-item", "--table-name", name,
                        "--item", json.dumps(item)) is None
    # The rest through boto3: each CLI start costs about a second.
    for sk, msg in [("1", "one"), ("10", "ten")]:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "msg": {"S": msg}})

    got = aws_cli.json("dynamodb", "get-item", "--table-name", name, "--consistent-read",
                       "--key", json.dumps({"pk": {"S": "p"}, "sk": {"N": "2"}}))
    assert got["Item"] == {"pk": {"S": "p"}, "sk": {"N": "2"}, "msg": {"S": "two"}}

    got = aws_cli.json(
        "dynamodb", "query", "--table-name", name,
        "--key-condition-expression", "pk = :p AND sk >= :lo",
        "--expression-attribute-values", json.dumps({":p": {"S": "p"}, ":lo": {"N": "2"}}),
        "--no-scan-index-forward",
    )
    assert [it["msg"]["S"] for it in got["Items"]] == ["ten", "two"]
    assert got["Count"] == 2

    # The CLI pages Scan itself: --page-size 1 makes it follow LastEvaluatedKey.
    got = aws_cli.json("dynamodb", "scan", "--table-name", name, "--page-size", "1")
    assert got["Count"] == 3
    assert sorted(it["msg"]["S"] for it in got["Items"]) == ["one", "ten", "two"]

    out = aws_cli.json("dynamodb", "delete-table", "--table-name", name)
    assert out["TableDescription"]["TableName"] == name


def test_cli_error_exit_code(aws_cli):
    proc = aws_cli.run("dynamodb", "describe-table", "--table-name", unique_name("missing"),
                       check=False)
    assert proc.returncode == 254
    assert "ResourceNotFoundException" in proc.stderr

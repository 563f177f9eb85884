"""PutItem / GetItem / DeleteItem / UpdateItem: values, limits, conditions, return values,
consumed capacity."""

import pytest

from compat_helpers import Texts, raises_client_error

KEY = {"pk": {"S": "a"}, "sk": {"S": "b"}}


@pytest.fixture
def tbl(table):
    return table()


@pytest.fixture
def hash_tbl(table):
    return table(range=None)


def get(ddb, name, key=KEY, **kw):
    return ddb.get_item(TableName=name, Key=key, ConsistentRead=True, **kw).get("Item")


# ---------------------------------------------------------------------------------------------
# AttributeValue round trips

EVERY_TYPE = {
    "s": {"S": "héllo wörld ✓"},
    "s_empty": {"S": ""},
    "n_int": {"N": "42"},
    "n_neg": {"N": "-3.25"},
    "b": {"B": bytes(range(256))},
    "b_empty": {"B": b""},
    "bool_t": {"BOOL": True},
    "bool_f": {"BOOL": False},
    "null": {"NULL": True},
    "ss": {"SS": ["x", "y", "z"]},
    "ns": {"NS": ["1", "2.5", "-7"]},
    "bs": {"BS": [b"\x00", b"\xff\xfe"]},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"NULL": True}, {"L": []}, {"M": {}}]},
    "m": {"M": {"inner": {"S": "v"}, "num": {"N": "7"}, "empty_list": {"L": []}}},
    "l_empty": {"L": []},
    "m_empty": {"M": {}},
}


def normalize(value):
    """Sets are unordered: compare them as sorted lists."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("SS", "NS", "BS"):
                out[k] = sorted(v, key=lambda x: str(x))
            else:
                out[k] = normalize(v)
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def test_every_type_round_trip(ddb, tbl):
    item = {**KEY, **EVERY_TYPE}
    ddb.put_item(TableName=tbl, Item=item)
    assert normalize(get(ddb, tbl)) == normalize(item)


def nest(depth, wrapper):
    value = {"S": "bottom"}
    for level in range(depth):
        value = {"M": {f"level{level}": value, "n": {"N": str(level)}}} if wrapper == "M" else {
            "L": [value, {"N": str(level)}]
        }
    return value


@pytest.mark.parametrize("wrapper", ["M", "L"])
def test_deeply_nested_round_trip(ddb, tbl, wrapper):
    # Documented limit: nested attributes up to 32 levels deep (the top-level attribute is
    # level 1, so 31 containers around a scalar is the deepest legal value).
    item = {**KEY, "deep": nest(31, wrapper)}
    ddb.put_item(TableName=tbl, Item=item)
    assert get(ddb, tbl) == item
    with raises_client_error(
        "ValidationException",
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit",
    ):
        ddb.put_item(TableName=tbl, Item={**KEY, "deep": nest(32, wrapper)})


def test_binary_key(ddb, table):
    name = table(hash=("pk", "B"), range=("sk", "B"))
    key = {"pk": {"B": b"\x00\x01binary"}, "sk": {"B": b"\xff"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"S": "x"}})
    assert get(ddb, name, key)["v"] == {"S": "x"}
    assert get(ddb, name, {"pk": {"B": b"\x00\x01binary"}, "sk": {"B": b"\xfe"}}) is None


@pytest.mark.parametrize(
    "given,canonical",
    [
        ("1.50", "1.5"),
        ("-0.00", "0"),
        ("001e3", "1000"),
        ("1E+2", "100"),
        (".5", "0.5"),
        ("0.000100", "0.0001"),
        ("-12.340", "-12.34"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("123456789012345678901234567890123456780", "123456789012345678901234567890123456780"),
    ],
)
def test_number_canonical_form(ddb, tbl, given, canonical):
    ddb.put_item(TableName=tbl, Item={**KEY, "n": {"N": given}})
    assert get(ddb, tbl)["n"] == {"N": canonical}


def test_number_sets_canonicalized(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "ns": {"NS": ["1.50", "2"]}})
    assert sorted(get(ddb, tbl)["ns"]["NS"]) == ["1.5", "2"]


def test_number_38_digit_precision_is_exact(ddb, tbl):
    big = "9.9999999999999999999999999999999999999e125"
    small = "1e-130"
    ddb.put_item(
        TableName=tbl,
        Item={**KEY, "a": {"N": "0.12345678901234567890123456789012345678"},
              "big": {"N": big}, "small": {"N": small}},
    )
    item = get(ddb, tbl)
    assert item["a"] == {"N": "0.12345678901234567890123456789012345678"}
    # Both extremes are accepted; their digits survive (format may vary, value must not).
    from decimal import Decimal
    assert Decimal(item["big"]["N"]) == Decimal(big)
    assert Decimal(item["small"]["N"]) == Decimal(small)


@pytest.mark.parametrize(
    "number,message",
    [
        ("123456789012345678901234567890123456789",
         "DynamoDB only supports precision up to 38 digits"),
        ("1e126", "Number overflow. Attempting to store a number with magnitude larger than "
                  "supported range"),
        ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than "
                   "supported range"),
        ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than "
                   "supported range"),
        ("abc", "A value provided cannot be converted into a number"),
        ("", "A value provided cannot be converted into a number"),
        ("NaN", "A value provided cannot be converted into a number"),
        ("Infinity", "A value provided cannot be converted into a number"),
    ],
)
def test_invalid_numbers(ddb, tbl, number, message):
    with raises_client_error("ValidationException", message):
        ddb.put_item(TableName=tbl, Item={**KEY, "n": {"N": number}})
    assert get(ddb, tbl) is None


def test_empty_string_set_rejected(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: An string set  may not be empty",
    ):
        ddb.put_item(TableName=tbl, Item={**KEY, "s": {"SS": []}})


@pytest.mark.parametrize(
    "set_type,message",
    [
        ("NS", "One or more parameter values were invalid: An number set  may not be empty"),
        ("BS", "One or more parameter values were invalid: Binary sets should not be empty"),
    ],
)
def test_empty_sets_rejected(ddb, tbl, set_type, message):
    with raises_client_error("ValidationException", message):
        ddb.put_item(TableName=tbl, Item={**KEY, "s": {set_type: []}})


def test_duplicate_set_members_rejected(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: Input collection [a, a] contains duplicates",
    ):
        ddb.put_item(TableName=tbl, Item={**KEY, "s": {"SS": ["a", "a"]}})
    with raises_client_error("ValidationException", match="contains duplicates"):
        ddb.put_item(TableName=tbl, Item={**KEY, "s": {"BS": [b"a", b"a"]}})
    # Numbers are compared by value: 1 and 1.0 are the same member.
    with raises_client_error("ValidationException", match="contains duplicates"):
        ddb.put_item(TableName=tbl, Item={**KEY, "s": {"NS": ["1", "1.0"]}})


def test_attribute_value_with_two_types(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes",
    ):
        ddb.put_item(TableName=tbl, Item={**KEY, "x": {"S": "a", "N": "1"}})


def test_attribute_value_with_no_type(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
    ):
        ddb.put_item(TableName=tbl, Item={**KEY, "x": {}})


def test_null_false_rejected(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: Null attribute value types must have the "
        "value of true",
    ):
        ddb.put_item(TableName=tbl, Item={**KEY, "x": {"NULL": False}})


def test_empty_attribute_name_rejected(ddb, tbl):
    with raises_client_error("ValidationException", "Empty attribute name"):
        ddb.put_item(TableName=tbl, Item={**KEY, "": {"S": "x"}})


# ---------------------------------------------------------------------------------------------
# Size limits

ITEM_LIMIT = 400 * 1024


def test_item_size_limit_400kb(ddb, hash_tbl):
    # Item size = name bytes + value bytes: "pk"+"a" + "d"+payload.
    overhead = len("pk") + len("a") + len("d")
    ddb.put_item(TableName=hash_tbl,
                 Item={"pk": {"S": "a"}, "d": {"S": "x" * (ITEM_LIMIT - overhead)}})
    assert len(get(ddb, hash_tbl, {"pk": {"S": "a"}})["d"]["S"]) == ITEM_LIMIT - overhead
    with raises_client_error(
        "ValidationException", "Item size has exceeded the maximum allowed size"
    ):
        ddb.put_item(TableName=hash_tbl,
                     Item={"pk": {"S": "b"}, "d": {"S": "x" * (ITEM_LIMIT - overhead + 1)}})
    assert get(ddb, hash_tbl, {"pk": {"S": "b"}}) is None


def test_update_past_item_size_limit(ddb, hash_tbl):
    overhead = len("pk") + len("a") + len("d")
    ddb.put_item(TableName=hash_tbl,
                 Item={"pk": {"S": "a"}, "d": {"S": "x" * (ITEM_LIMIT - overhead)}})
    with raises_client_error(
        "ValidationException", "Item size to update has exceeded the maximum allowed size"
    ):
        ddb.update_item(
            TableName=hash_tbl, Key={"pk": {"S": "a"}}, UpdateExpression="SET e = :e",
            ExpressionAttributeValues={":e": {"S": "xx"}},
        )
    assert "e" not in get(ddb, hash_tbl, {"pk": {"S": "a"}})


# AWS names the key part that is too long (texts as dynalite records them, db/index.js
# checkKeySize, including AWS's missing space in "of2048"); DynamoDB Local has one text.
KEY_SIZE_LOCAL = (
    "Hash primary key values must be under 2048 bytes, and range primary key values must be "
    "under 1024 bytes"
)
HASH_KEY_SIZE_MSG = Texts(
    aws="One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
        "size limit of2048 bytes",
    local=KEY_SIZE_LOCAL,
)
RANGE_KEY_SIZE_MSG = Texts(
    aws="One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes",
    local=KEY_SIZE_LOCAL,
)


def test_key_size_limits(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={"pk": {"S": "p" * 2048}, "sk": {"S": "s" * 1024}})
    assert get(ddb, tbl, {"pk": {"S": "p" * 2048}, "sk": {"S": "s" * 1024}}) is not None
    with raises_client_error("ValidationException", HASH_KEY_SIZE_MSG):
        ddb.put_item(TableName=tbl, Item={"pk": {"S": "p" * 2049}, "sk": {"S": "s"}})
    with raises_client_error("ValidationException", RANGE_KEY_SIZE_MSG):
        ddb.put_item(TableName=tbl, Item={"pk": {"S": "p"}, "sk": {"S": "s" * 1025}})
    # Limits are in UTF-8 bytes, not characters.
    ddb.put_item(TableName=tbl, Item={"pk": {"S": "p"}, "sk": {"S": "é" * 512}})
    with raises_client_error("ValidationException", RANGE_KEY_SIZE_MSG):
        ddb.put_item(TableName=tbl, Item={"pk": {"S": "p"}, "sk": {"S": "é" * 513}})
    with raises_client_error("ValidationException", HASH_KEY_SIZE_MSG):
        ddb.get_item(TableName=tbl, Key={"pk": {"S": "p" * 2049}, "sk": {"S": "s"}})


# ---------------------------------------------------------------------------------------------
# Key validation


def test_missing_key_attributes(ddb, tbl):
    # AWS names the missing key (dynalite db/index.js validateItem).
    local = "One of the required keys was not given a value"
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Missing the key sk in the item",
            local=local)):
        ddb.put_item(TableName=tbl, Item={"pk": {"S": "a"}})
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Missing the key pk in the item",
            local=local)):
        ddb.put_item(TableName=tbl, Item={"sk": {"S": "a"}})


def test_wrong_key_type(ddb, tbl):
    # An item names the key and both types; a Key argument is a plain schema mismatch
    # (dynalite db/index.js validateItem / validateKeyPiece).
    local = "One or more parameter values were invalid: Type mismatch for key"
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Type mismatch for key pk expected: S "
                "actual: N",
            local=local)):
        ddb.put_item(TableName=tbl, Item={"pk": {"N": "1"}, "sk": {"S": "a"}})
    with raises_client_error("ValidationException", Texts(
            aws="The provided key element does not match the schema", local=local)):
        ddb.get_item(TableName=tbl, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})


def test_empty_string_key_rejected(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk",
    ):
        ddb.put_item(TableName=tbl, Item={"pk": {"S": ""}, "sk": {"S": "a"}})


@pytest.mark.parametrize("op", ["get", "delete", "update"])
def test_key_with_extra_or_missing_attributes(ddb, tbl, op):
    # dynalite db/index.js validateKey.
    msg = Texts(aws="The provided key element does not match the schema",
                local="The number of conditions on the keys is invalid")
    call = {
        "get": ddb.get_item,
        "delete": ddb.delete_item,
        "update": ddb.update_item,
    }[op]
    with raises_client_error("ValidationException", msg):
        call(TableName=tbl, Key={**KEY, "extra": {"S": "x"}})
    with raises_client_error("ValidationException", msg):
        call(TableName=tbl, Key={"pk": {"S": "a"}})


# ---------------------------------------------------------------------------------------------
# Basic CRUD


def test_put_replaces_whole_item(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "a": {"S": "1"}, "b": {"S": "2"}})
    ddb.put_item(TableName=tbl, Item={**KEY, "c": {"S": "3"}})
    assert get(ddb, tbl) == {**KEY, "c": {"S": "3"}}


def test_get_missing_item_has_no_item_key(ddb, tbl):
    resp = ddb.get_item(TableName=tbl, Key=KEY)
    assert "Item" not in resp


def test_get_projection(ddb, tbl):
    ddb.put_item(
        TableName=tbl,
        Item={**KEY, "a": {"S": "1"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
              "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}]}},
    )
    item = ddb.get_item(TableName=tbl, Key=KEY, ProjectionExpression="a, m.y, l[2], nope")[
        "Item"
    ]
    assert item == {"a": {"S": "1"}, "m": {"M": {"y": {"N": "2"}}}, "l": {"L": [{"S": "l2"}]}}


def test_delete_item(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "a": {"S": "1"}})
    resp = ddb.delete_item(TableName=tbl, Key=KEY, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {**KEY, "a": {"S": "1"}}
    assert get(ddb, tbl) is None
    # Deleting a missing item succeeds and returns nothing.
    resp = ddb.delete_item(TableName=tbl, Key=KEY, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp


def test_update_creates_item(ddb, tbl):
    ddb.update_item(TableName=tbl, Key=KEY)
    assert get(ddb, tbl) == KEY
    other = {"pk": {"S": "a"}, "sk": {"S": "c"}}
    resp = ddb.update_item(TableName=tbl, Key=other, ReturnValues="ALL_NEW")
    assert resp["Attributes"] == other


# ---------------------------------------------------------------------------------------------
# Conditions on every write

CCF = "ConditionalCheckFailedException"
CCF_MSG = "The conditional request failed"


def test_put_condition(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "1"}},
                 ConditionExpression="attribute_not_exists(pk)")
    with raises_client_error(CCF, CCF_MSG):
        ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "2"}},
                     ConditionExpression="attribute_not_exists(pk)")
    assert get(ddb, tbl)["v"] == {"N": "1"}
    ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "3"}},
                 ConditionExpression="v = :one", ExpressionAttributeValues={":one": {"N": "1"}})
    assert get(ddb, tbl)["v"] == {"N": "3"}


def test_put_condition_on_missing_item(ddb, tbl):
    with raises_client_error(CCF, CCF_MSG):
        ddb.put_item(TableName=tbl, Item=KEY, ConditionExpression="attribute_exists(pk)")
    assert get(ddb, tbl) is None


def test_delete_condition(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "1"}})
    with raises_client_error(CCF, CCF_MSG):
        ddb.delete_item(TableName=tbl, Key=KEY, ConditionExpression="v = :x",
                        ExpressionAttributeValues={":x": {"N": "2"}})
    assert get(ddb, tbl) is not None
    ddb.delete_item(TableName=tbl, Key=KEY, ConditionExpression="v = :x",
                    ExpressionAttributeValues={":x": {"N": "1"}})
    assert get(ddb, tbl) is None


def test_update_condition(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "1"}})
    with raises_client_error(CCF, CCF_MSG):
        ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET v = :x",
                        ConditionExpression="v = :x", ExpressionAttributeValues={":x": {"N": "2"}})
    assert get(ddb, tbl)["v"] == {"N": "1"}
    ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET v = :x",
                    ConditionExpression="v < :x", ExpressionAttributeValues={":x": {"N": "2"}})
    assert get(ddb, tbl)["v"] == {"N": "2"}


def test_update_condition_on_missing_item_does_not_create(ddb, tbl):
    with raises_client_error(CCF, CCF_MSG):
        ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET v = :x",
                        ConditionExpression="attribute_exists(pk)",
                        ExpressionAttributeValues={":x": {"N": "2"}})
    assert get(ddb, tbl) is None


# ---------------------------------------------------------------------------------------------
# ReturnValues


def test_put_return_values(ddb, tbl):
    resp = ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "1"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    resp = ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {**KEY, "v": {"N": "1"}}
    resp = ddb.put_item(TableName=tbl, Item={**KEY, "v": {"N": "3"}}, ReturnValues="NONE")
    assert "Attributes" not in resp


RETURN_VALUES_LOCAL = "Return values set to invalid value"
# A value outside the enum fails AWS's generic constraint check (dynalite
# validations/putItem.js); a valid one the operation cannot honour gets a specific text
# (dynalite validations/putItem.js custom).
BOGUS_RETURN_VALUES = Texts(
    aws="1 validation error detected: Value 'BOGUS' at 'returnValues' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, "
        "UPDATED_NEW]",
    local=RETURN_VALUES_LOCAL,
)
ALL_OLD_OR_NONE = Texts(aws="ReturnValues can only be ALL_OLD or NONE", local=RETURN_VALUES_LOCAL)


@pytest.mark.parametrize("rv", ["UPDATED_NEW", "ALL_NEW", "UPDATED_OLD", "BOGUS"])
def test_put_rejects_other_return_values(ddb, tbl, rv):
    msg = BOGUS_RETURN_VALUES if rv == "BOGUS" else ALL_OLD_OR_NONE
    with raises_client_error("ValidationException", msg):
        ddb.put_item(TableName=tbl, Item=KEY, ReturnValues=rv)


@pytest.mark.parametrize("rv", ["UPDATED_NEW", "ALL_NEW", "UPDATED_OLD"])
def test_delete_rejects_other_return_values(ddb, tbl, rv):
    with raises_client_error("ValidationException", ALL_OLD_OR_NONE):
        ddb.delete_item(TableName=tbl, Key=KEY, ReturnValues=rv)


@pytest.mark.parametrize(
    "rv,expected",
    [
        ("NONE", None),
        ("ALL_OLD", {**KEY, "a": {"N": "1"}, "b": {"S": "keep"}, "c": {"S": "gone"}}),
        ("UPDATED_OLD", {"a": {"N": "1"}, "c": {"S": "gone"}}),
        ("ALL_NEW", {**KEY, "a": {"N": "2"}, "b": {"S": "keep"}, "d": {"S": "new"}}),
        ("UPDATED_NEW", {"a": {"N": "2"}, "d": {"S": "new"}}),
    ],
)
def test_update_return_values(ddb, tbl, rv, expected):
    ddb.put_item(TableName=tbl,
                 Item={**KEY, "a": {"N": "1"}, "b": {"S": "keep"}, "c": {"S": "gone"}})
    resp = ddb.update_item(
        TableName=tbl, Key=KEY, UpdateExpression="SET a = a + :one, d = :d REMOVE c",
        ExpressionAttributeValues={":one": {"N": "1"}, ":d": {"S": "new"}}, ReturnValues=rv,
    )
    assert resp.get("Attributes") == expected


# UPDATED_OLD/UPDATED_NEW return only the updated nested paths, wrapped in their parents (as
# observed on AWS and documented as "only the updated attributes"); DynamoDB Local returns the
# whole top-level attribute.
@pytest.mark.aws_only
def test_update_return_values_nested(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "m": {"M": {"x": {"N": "1"}, "y": {"N": "5"}}}})
    resp = ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET m.x = :v",
                           ExpressionAttributeValues={":v": {"N": "9"}},
                           ReturnValues="UPDATED_NEW")
    assert resp["Attributes"] == {"m": {"M": {"x": {"N": "9"}}}}
    resp = ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET m.x = :v",
                           ExpressionAttributeValues={":v": {"N": "10"}},
                           ReturnValues="UPDATED_OLD")
    assert resp["Attributes"] == {"m": {"M": {"x": {"N": "9"}}}}
    ddb.put_item(TableName=tbl, Item={**KEY, "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}})
    resp = ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET l[1] = :v",
                           ExpressionAttributeValues={":v": {"N": "7"}},
                           ReturnValues="UPDATED_OLD")
    assert resp["Attributes"] == {"l": {"L": [{"N": "2"}]}}


def test_update_return_values_nested_all(ddb, tbl):
    ddb.put_item(TableName=tbl, Item={**KEY, "m": {"M": {"x": {"N": "1"}, "y": {"N": "5"}}}})
    resp = ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET m.x = :v",
                           ExpressionAttributeValues={":v": {"N": "9"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {**KEY, "m": {"M": {"x": {"N": "1"}, "y": {"N": "5"}}}}
    resp = ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET m.y = :v",
                           ExpressionAttributeValues={":v": {"N": "6"}}, ReturnValues="ALL_NEW")
    assert resp["Attributes"] == {**KEY, "m": {"M": {"x": {"N": "9"}, "y": {"N": "6"}}}}


def test_update_rejects_bogus_return_values(ddb, tbl):
    with raises_client_error("ValidationException", BOGUS_RETURN_VALUES):
        ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET v = :x",
                        ExpressionAttributeValues={":x": {"N": "2"}}, ReturnValues="BOGUS")


# ---------------------------------------------------------------------------------------------
# ReturnConsumedCapacity: 4 KB read units (half for eventually consistent reads), 1 KB write
# units, sizes rounded up; PutItem/UpdateItem/DeleteItem charge the larger of the old and new
# item.


def capacity(resp):
    return resp["ConsumedCapacity"]["CapacityUnits"]


def test_consumed_capacity_reads(ddb, hash_tbl):
    key = {"pk": {"S": "a"}}
    # 2 + 1 + 1 + 8192 bytes: just over 8 KB -> 3 read units.
    ddb.put_item(TableName=hash_tbl, Item={**key, "d": {"S": "x" * 8192}})
    resp = ddb.get_item(TableName=hash_tbl, Key=key, ReturnConsumedCapacity="TOTAL",
                        ConsistentRead=True)
    assert resp["ConsumedCapacity"]["TableName"] == hash_tbl
    assert capacity(resp) == 3.0
    # Eventually consistent: half. A projection does not lower the charge.
    resp = ddb.get_item(TableName=hash_tbl, Key=key, ReturnConsumedCapacity="TOTAL",
                        ProjectionExpression="pk")
    assert capacity(resp) == 1.5
    # A missing item still costs the minimum.
    resp = ddb.get_item(TableName=hash_tbl, Key={"pk": {"S": "zz"}},
                        ReturnConsumedCapacity="TOTAL")
    assert capacity(resp) == 0.5
    resp = ddb.get_item(TableName=hash_tbl, Key=key, ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in resp
    resp = ddb.get_item(TableName=hash_tbl, Key=key)
    assert "ConsumedCapacity" not in resp


def test_consumed_capacity_exact_4kb_boundary(ddb, hash_tbl):
    overhead = len("pk") + len("a") + len("d")
    ddb.put_item(TableName=hash_tbl,
                 Item={"pk": {"S": "a"}, "d": {"S": "x" * (4096 - overhead)}})
    resp = ddb.get_item(TableName=hash_tbl, Key={"pk": {"S": "a"}},
                        ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert capacity(resp) == 1.0
    ddb.put_item(TableName=hash_tbl,
                 Item={"pk": {"S": "a"}, "d": {"S": "x" * (4097 - overhead)}})
    resp = ddb.get_item(TableName=hash_tbl, Key={"pk": {"S": "a"}},
                        ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert capacity(resp) == 2.0


def test_consumed_capacity_writes(ddb, hash_tbl):
    # 3 KB + 4 bytes -> 4 write units.
    big = {"pk": {"S": "b"}, "d": {"S": "x" * 3072}}
    resp = ddb.put_item(TableName=hash_tbl, Item=big, ReturnConsumedCapacity="TOTAL")
    assert capacity(resp) == 4.0
    resp = ddb.put_item(TableName=hash_tbl, Item={"pk": {"S": "c"}},
                        ReturnConsumedCapacity="TOTAL")
    assert capacity(resp) == 1.0
    # Replacing the big item with a small one charges the larger (old) size.
    resp = ddb.put_item(TableName=hash_tbl, Item={"pk": {"S": "b"}},
                        ReturnConsumedCapacity="TOTAL")
    assert capacity(resp) == 4.0
    resp = ddb.delete_item(TableName=hash_tbl, Key={"pk": {"S": "b"}},
                           ReturnConsumedCapacity="TOTAL")
    assert capacity(resp) == 1.0
    resp = ddb.delete_item(TableName=hash_tbl, Key={"pk": {"S": "missing"}},
                           ReturnConsumedCapacity="TOTAL")
    assert capacity(resp) == 1.0


def test_consumed_capacity_update(ddb, hash_tbl):
    ddb.put_item(TableName=hash_tbl, Item={"pk": {"S": "u"}, "d": {"S": "x" * 2000}})
    resp = ddb.update_item(TableName=hash_tbl, Key={"pk": {"S": "u"}},
                           UpdateExpression="SET e = :e",
                           ExpressionAttributeValues={":e": {"S": "y" * 1000}},
                           ReturnConsumedCapacity="TOTAL")
    # New size 2 + 1 + 1 + 2000 + 1 + 1000 = 3005 bytes -> 3 units.
    assert capacity(resp) == 3.0


def test_consumed_capacity_indexes(ddb, table):
    name = table(range=None)
    resp = ddb.put_item(TableName=name, Item={"pk": {"S": "c"}},
                        ReturnConsumedCapacity="INDEXES")
    cc = resp["ConsumedCapacity"]
    assert cc["TableName"] == name
    assert cc["CapacityUnits"] == 1.0
    assert cc["Table"] == {"CapacityUnits": 1.0}


def test_consumed_capacity_gsi_writes_and_reads(ddb, table):
    name = table(range=None, gsis=[("gix", ("g", "S"))])

    def units(resp):
        cc = resp["ConsumedCapacity"]
        return (cc["CapacityUnits"], cc["Table"]["CapacityUnits"],
                {k: v["CapacityUnits"] for k, v in cc.get("GlobalSecondaryIndexes", {}).items()})

    resp = ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "x"}},
                        ReturnConsumedCapacity="INDEXES")
    assert units(resp) == (2.0, 1.0, {"gix": 1.0})
    # An item without the index key does not touch the index.
    resp = ddb.put_item(TableName=name, Item={"pk": {"S": "b"}}, ReturnConsumedCapacity="INDEXES")
    assert units(resp) == (1.0, 1.0, {})
    resp = ddb.put_item(TableName=name, Item={"pk": {"S": "c"}, "g": {"S": "x"}},
                        ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 2.0}
    # Changing the index key is a delete plus a put in the index.
    resp = ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET g = :g",
                           ExpressionAttributeValues={":g": {"S": "y"}},
                           ReturnConsumedCapacity="INDEXES")
    assert units(resp) == (3.0, 1.0, {"gix": 2.0})
    resp = ddb.query(TableName=name, IndexName="gix", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "x"}},
                     ReturnConsumedCapacity="INDEXES")
    assert units(resp) == (0.5, 0.0, {"gix": 0.5})
    resp = ddb.delete_item(TableName=name, Key={"pk": {"S": "c"}},
                           ReturnConsumedCapacity="INDEXES")
    assert units(resp) == (2.0, 1.0, {"gix": 1.0})

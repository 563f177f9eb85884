"""Scan: filters, Select, projections, paging, the 1 MB cap, parallel segments, GSIs."""

import concurrent.futures

import pytest

from compat_helpers import Texts, raises_client_error

N = lambda v: {"N": str(v)}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731

ITEMS = 40


@pytest.fixture
def scan_tbl(ddb, table):
    name = table(gsis=[("by-g", ("g", "S"), ("sk", "S"))])
    rows = []
    for i in range(ITEMS):
        item = {"pk": S(f"p{i % 7}"), "sk": S(f"s{i:03d}"), "i": N(i), "odd": {"BOOL": i % 2 == 1}}
        if i % 4 == 0:
            item["g"] = S("quarter")
        rows.append(item)
    for start in range(0, ITEMS, 25):
        ddb.batch_write_item(RequestItems={
            name: [{"PutRequest": {"Item": it}} for it in rows[start:start + 25]]
        })
    return name


def all_is(items):
    return sorted(int(it["i"]["N"]) for it in items)


def test_scan_everything(ddb, scan_tbl):
    resp = ddb.scan(TableName=scan_tbl, ConsistentRead=True)
    assert resp["Count"] == ITEMS
    assert resp["ScannedCount"] == ITEMS
    assert all_is(resp["Items"]) == list(range(ITEMS))
    assert "LastEvaluatedKey" not in resp


def test_scan_filter_count_vs_scanned(ddb, scan_tbl):
    resp = ddb.scan(TableName=scan_tbl, FilterExpression="odd = :t AND i < :ten",
                    ExpressionAttributeValues={":t": {"BOOL": True}, ":ten": N(10)})
    assert all_is(resp["Items"]) == [1, 3, 5, 7, 9]
    assert resp["Count"] == 5
    assert resp["ScannedCount"] == ITEMS
    resp = ddb.scan(TableName=scan_tbl, FilterExpression="odd = :t",
                    ExpressionAttributeValues={":t": {"BOOL": True}}, Select="COUNT")
    assert "Items" not in resp
    assert resp["Count"] == ITEMS // 2
    assert resp["ScannedCount"] == ITEMS


def test_scan_filter_may_use_key_attributes(ddb, scan_tbl):
    # Unlike Query, a Scan filter can name key attributes.
    resp = ddb.scan(TableName=scan_tbl, FilterExpression="pk = :p AND begins_with(sk, :s)",
                    ExpressionAttributeValues={":p": S("p0"), ":s": S("s00")})
    assert all_is(resp["Items"]) == [0, 7]


def test_scan_projection(ddb, scan_tbl):
    resp = ddb.scan(TableName=scan_tbl, ProjectionExpression="i",
                    FilterExpression="i = :z", ExpressionAttributeValues={":z": N(0)})
    assert resp["Items"] == [{"i": N(0)}]
    resp = ddb.scan(TableName=scan_tbl, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sk",
                    FilterExpression="i = :z", ExpressionAttributeValues={":z": N(1)})
    assert resp["Items"] == [{"sk": S("s001")}]


def test_scan_limit_paging(ddb, scan_tbl):
    seen = []
    kwargs = {}
    pages = 0
    while True:
        resp = ddb.scan(TableName=scan_tbl, Limit=7, **kwargs)
        pages += 1
        assert resp["ScannedCount"] <= 7
        seen.extend(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            break
        assert set(resp["LastEvaluatedKey"]) == {"pk", "sk"}
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        assert pages < 20
    assert all_is(seen) == list(range(ITEMS))
    assert pages in (6, 7)  # 40 items / 7 per page, plus maybe one empty page


def test_scan_limit_with_filter(ddb, scan_tbl):
    resp = ddb.scan(TableName=scan_tbl, Limit=10, FilterExpression="odd = :t",
                    ExpressionAttributeValues={":t": {"BOOL": True}})
    assert resp["ScannedCount"] == 10
    assert resp["Count"] <= 10
    assert "LastEvaluatedKey" in resp


def test_scan_one_megabyte_page_cap(ddb, table):
    name = table(range=None)
    payload = "x" * (390 * 1024)
    for i in range(4):
        ddb.put_item(TableName=name, Item={"pk": S(f"big{i}"), "d": S(payload)})
    resp = ddb.scan(TableName=name, Select="COUNT")
    assert 2 <= resp["ScannedCount"] <= 3
    assert "LastEvaluatedKey" in resp
    total = resp["ScannedCount"]
    while "LastEvaluatedKey" in resp:
        resp = ddb.scan(TableName=name, Select="COUNT",
                        ExclusiveStartKey=resp["LastEvaluatedKey"])
        total += resp["ScannedCount"]
    assert total == 4


@pytest.mark.parametrize("total_segments", [1, 2, 3, 8])
def test_segments_cover_every_item_once(ddb, scan_tbl, total_segments):
    def scan_segment(segment):
        got = []
        kwargs = {}
        while True:
            resp = ddb.scan(TableName=scan_tbl, Segment=segment, TotalSegments=total_segments,
                            Limit=5, **kwargs)
            got.extend(int(it["i"]["N"]) for it in resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return got
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(total_segments, 4)) as pool:
        results = list(pool.map(scan_segment, range(total_segments)))
    flat = [i for seg in results for i in seg]
    assert sorted(flat) == list(range(ITEMS)), "every item exactly once"


def test_segments_split_the_work(ddb, scan_tbl):
    # With 40 items spread over 7 partitions, two segments should not put everything in one.
    counts = [ddb.scan(TableName=scan_tbl, Segment=s, TotalSegments=2, Select="COUNT")["Count"]
              for s in range(2)]
    assert sum(counts) == ITEMS
    assert all(c > 0 for c in counts), counts


def test_segment_errors(ddb, scan_tbl):
    # dynalite validations/scan.js.
    with raises_client_error("ValidationException", Texts(
            aws="The TotalSegments parameter is required but was not present in the request when "
                "Segment parameter is present",
            local="If segment is specified, total segment must also be specified")):
        ddb.scan(TableName=scan_tbl, Segment=0)
    with raises_client_error("ValidationException"):
        ddb.scan(TableName=scan_tbl, Segment=2, TotalSegments=2)
    with raises_client_error("ValidationException"):
        ddb.scan(TableName=scan_tbl, Segment=0, TotalSegments=1000001)


def test_scan_errors(ddb, scan_tbl):
    with raises_client_error(
        "ValidationException", 'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "= "'
    ):
        ddb.scan(TableName=scan_tbl, FilterExpression="x = ")
    with raises_client_error(
        "ValidationException",
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
    ):
        ddb.scan(TableName=scan_tbl, Select="ALL_PROJECTED_ATTRIBUTES")
    with raises_client_error(
        "ValidationException", "The table does not have the specified index: nope"
    ):
        ddb.scan(TableName=scan_tbl, IndexName="nope")


def test_scan_gsi(ddb, scan_tbl):
    resp = ddb.scan(TableName=scan_tbl, IndexName="by-g")
    assert all_is(resp["Items"]) == list(range(0, ITEMS, 4))
    with raises_client_error(
        "ValidationException", "Consistent reads are not supported on global secondary indexes"
    ):
        ddb.scan(TableName=scan_tbl, IndexName="by-g", ConsistentRead=True)
    resp = ddb.scan(TableName=scan_tbl, IndexName="by-g", Limit=3)
    assert set(resp["LastEvaluatedKey"]) == {"pk", "sk", "g"}


def test_scan_consumed_capacity(ddb, table):
    name = table(range=None)
    # 2+2 + 1+5000 = 5005 bytes each; 10010 together -> 3 units, halved for eventual reads.
    for k in ("a1", "a2"):
        ddb.put_item(TableName=name, Item={"pk": S(k), "d": S("x" * 5000)})
    resp = ddb.scan(TableName=name, ReturnConsumedCapacity="TOTAL", Select="COUNT")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.5
    resp = ddb.scan(TableName=name, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_scan_empty_table(ddb, table):
    resp = ddb.scan(TableName=table())
    assert resp["Items"] == []
    assert resp["Count"] == 0
    assert resp["ScannedCount"] == 0
    assert "LastEvaluatedKey" not in resp

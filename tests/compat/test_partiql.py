"""PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction."""

import uuid

import pytest

from compat_helpers import raises_client_error

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731


@pytest.fixture
def tbl(ddb, table):
    """pk (S) / sk (N), with items a/1 and a/2 and b/1."""
    name = table(range=("sk", "N"))
    ddb.put_item(TableName=name, Item={"pk": S("a"), "sk": N(1), "v": S("x"), "n": N(5)})
    ddb.put_item(TableName=name, Item={"pk": S("a"), "sk": N(2), "v": S("y"), "n": N(7),
                                       "m": {"M": {"k": {"L": [N(1), N(2)]}}}})
    ddb.put_item(TableName=name, Item={"pk": S("b"), "sk": N(1)})
    return name


def run(ddb, statement, *params, **kwargs):
    if params:
        kwargs["Parameters"] = list(params)
    return ddb.execute_statement(Statement=statement, **kwargs)


def get(ddb, name, pk, sk):
    return ddb.get_item(TableName=name, Key={"pk": S(pk), "sk": N(sk)},
                        ConsistentRead=True).get("Item")


def sort_items(items):
    return sorted(items, key=lambda i: (i["pk"]["S"], int(i["sk"]["N"])))


# ---- SELECT -------------------------------------------------------------------------------


def test_select_partition_and_sort_conditions(ddb, tbl):
    items = run(ddb, f'SELECT * FROM "{tbl}" WHERE pk = ?', S("a"))["Items"]
    assert [i["sk"]["N"] for i in items] == ["1", "2"]
    items = run(ddb, f"SELECT pk, sk FROM \"{tbl}\" WHERE pk = 'a' AND sk > 1")["Items"]
    assert items == [{"pk": S("a"), "sk": N(2)}]
    items = run(ddb, f"SELECT * FROM \"{tbl}\" WHERE pk = 'a' AND sk BETWEEN 1 AND 1")["Items"]
    assert [i["sk"]["N"] for i in items] == ["1"]
    items = run(ddb, f"SELECT * FROM \"{tbl}\" WHERE pk = 'a' ORDER BY sk DESC")["Items"]
    assert [i["sk"]["N"] for i in items] == ["2", "1"]


def test_select_in_or_and_scan(ddb, tbl):
    items = run(ddb, f"SELECT pk, sk FROM \"{tbl}\" WHERE pk IN ['a', 'b']")["Items"]
    assert sort_items(items) == [{"pk": S("a"), "sk": N(1)}, {"pk": S("a"), "sk": N(2)},
                                 {"pk": S("b"), "sk": N(1)}]
    items = run(ddb, f"SELECT sk FROM \"{tbl}\" WHERE pk = 'b' OR pk = 'zz'")["Items"]
    assert items == [{"sk": N(1)}]
    items = run(ddb, f'SELECT * FROM "{tbl}"')["Items"]
    assert len(items) == 3
    items = run(ddb, f"SELECT pk FROM \"{tbl}\" WHERE v <> 'x' AND n >= 7")["Items"]
    assert items == [{"pk": S("a")}]


def test_select_functions_and_missing(ddb, tbl):
    def sks(where):
        items = run(ddb, f'SELECT * FROM "{tbl}" WHERE {where}')["Items"]
        return sorted((i["pk"]["S"], i["sk"]["N"]) for i in items)

    assert sks("begins_with(v, 'y')") == [("a", "2")]
    assert sks("contains(m.k, 2)") == [("a", "2")]
    assert sks("m.k[1] = 2") == [("a", "2")]
    assert sks("attribute_exists(n) AND NOT attribute_exists(m)") == [("a", "1")]
    assert sks("v IS MISSING") == [("b", "1")]
    assert sks("v IS NOT MISSING AND size(v) = 1") == [("a", "1"), ("a", "2")]
    assert sks("attribute_type(n, 'N')") == [("a", "1"), ("a", "2")]


def test_select_paging_with_next_token(ddb, table):
    name = table(range=("sk", "N"))
    for i in range(7):
        ddb.put_item(TableName=name, Item={"pk": S("p"), "sk": N(i)})
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"Limit": 3}
        if token:
            kwargs["NextToken"] = token
        resp = run(ddb, f"SELECT sk FROM \"{name}\" WHERE pk = 'p'", **kwargs)
        seen += [int(i["sk"]["N"]) for i in resp["Items"]]
        pages += 1
        token = resp.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert seen == list(range(7))


def test_select_paging_across_in_partitions(ddb, table):
    name = table(range=("sk", "N"))
    for pk in ("x", "y"):
        for i in range(3):
            ddb.put_item(TableName=name, Item={"pk": S(pk), "sk": N(i)})
    seen, token = [], None
    for _ in range(10):
        kwargs = {"Limit": 2, "NextToken": token} if token else {"Limit": 2}
        resp = run(ddb, f"SELECT pk, sk FROM \"{name}\" WHERE pk IN ['x', 'y']", **kwargs)
        seen += [(i["pk"]["S"], int(i["sk"]["N"])) for i in resp["Items"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert sorted(seen) == [(p, i) for p in ("x", "y") for i in range(3)]


def test_select_on_index(ddb, table):
    name = table(range=("sk", "N"), gsis=[("by_v", ("v", "S"))])
    ddb.put_item(TableName=name, Item={"pk": S("a"), "sk": N(1), "v": S("k")})
    ddb.put_item(TableName=name, Item={"pk": S("b"), "sk": N(1), "v": S("k")})
    ddb.put_item(TableName=name, Item={"pk": S("c"), "sk": N(1), "v": S("j")})
    items = run(ddb, f"SELECT pk FROM \"{name}\".\"by_v\" WHERE v = 'k'")["Items"]
    assert sorted(i["pk"]["S"] for i in items) == ["a", "b"]
    with raises_client_error("ValidationException",
                             "The table does not have the specified index: nope"):
        run(ddb, f'SELECT * FROM "{name}"."nope"')


def test_select_errors(ddb, tbl):
    with raises_client_error("ValidationException",
                             "Duplicate identifiers in select clause: pk"):
        run(ddb, f'SELECT pk, pk FROM "{tbl}"')
    with raises_client_error("ValidationException",
                             "Key attribute's data type should match its data type in table's "
                             "schema: Key pk"):
        run(ddb, f'SELECT * FROM "{tbl}" WHERE pk = 1')
    with raises_client_error("ValidationException",
                             "Must have WHERE clause in the statement when using ORDER BY "
                             "clause."):
        run(ddb, f'SELECT * FROM "{tbl}" ORDER BY sk')
    with raises_client_error("ValidationException",
                             "Variable reference v in ORDER BY clause must be part of the "
                             "primary key"):
        run(ddb, f"SELECT * FROM \"{tbl}\" WHERE pk = 'a' ORDER BY v DESC")
    with raises_client_error("ValidationException", "Invalid NextToken"):
        run(ddb, f'SELECT * FROM "{tbl}"', NextToken="garbage")


def test_syntax_errors_quote_the_statement(ddb, tbl):
    for bad in (f'SELEC * FROM "{tbl}"', f'SELECT * FROM "{tbl}" WHERE',
                f"SELECT * FROM \"{tbl}\" WHERE pk = = 'a'"):
        with raises_client_error("ValidationException",
                                 "Statement wasn't well formed, can't be processed: " + bad):
            run(ddb, bad)


def test_parameter_count_must_match(ddb, tbl):
    message = "Number of parameters in request and statement don't match."
    with raises_client_error("ValidationException", message):
        run(ddb, f'SELECT * FROM "{tbl}" WHERE pk = ?')
    with raises_client_error("ValidationException", message):
        run(ddb, f'SELECT * FROM "{tbl}" WHERE pk = ? AND sk = ?', S("a"))


def test_missing_table(ddb):
    with raises_client_error("ResourceNotFoundException"):
        run(ddb, 'SELECT * FROM "compat-no-such-table-partiql"')


# ---- INSERT / UPDATE / DELETE --------------------------------------------------------------


def test_insert_with_literals_and_parameters(ddb, tbl):
    run(ddb, f"INSERT INTO \"{tbl}\" VALUE {{'pk': ?, 'sk': 9, 'l': [1, 'two', {{'x': TRUE}}], "
             f"'ss': <<'p', 'q'>>, 'ns': <<1, 2>>, 'z': NULL, 'b': ?, 'f': -1.50}}",
        S("c"), {"B": b"\x00\x01"})
    item = get(ddb, tbl, "c", 9)
    assert item["l"] == {"L": [N(1), S("two"), {"M": {"x": {"BOOL": True}}}]}
    assert sorted(item["ss"]["SS"]) == ["p", "q"]
    assert sorted(item["ns"]["NS"]) == ["1", "2"]
    assert item["z"] == {"NULL": True}
    assert item["b"] == {"B": b"\x00\x01"}
    assert item["f"] == N("-1.5")


def test_insert_duplicate_key_fails(ddb, tbl, is_peer):
    # AWS names the error DuplicateItemException (API Reference, ExecuteStatement errors);
    # DynamoDB Local sends it as "DuplicateItem".
    code = "DuplicateItem" if is_peer else "DuplicateItemException"
    with raises_client_error(code, "Duplicate primary key exists in table"):
        run(ddb, f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'a', 'sk': 1, 'v': 'new'}}")
    assert get(ddb, tbl, "a", 1)["v"] == S("x")


def test_insert_errors(ddb, tbl):
    with raises_client_error("ValidationException",
                             "Key attribute should be present in the item: Key sk"):
        run(ddb, f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'a'}}")
    with raises_client_error("ValidationException",
                             "Key attribute's data type should match its data type in table's "
                             "schema: Key sk"):
        run(ddb, f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'a', 'sk': 'x'}}")
    with raises_client_error("ValidationException", "Input collection contains duplicates"):
        run(ddb, f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'e', 'sk': 1, 's': <<'a', 'a'>>}}")
    with raises_client_error("ValidationException", match="Empty bags are not supported"):
        run(ddb, f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'e', 'sk': 1, 's': <<>>}}")
    with raises_client_error("ValidationException",
                             match="Please use struct format {...} to express item values"):
        run(ddb, f'INSERT INTO "{tbl}" VALUE [1]')


def test_update_set_remove_and_returning(ddb, tbl):
    resp = run(ddb, f"UPDATE \"{tbl}\" SET n = n + 1 SET m.k[0] = 'z' SET l = list_append("
                    f"if_not_exists(l, []), [3]) REMOVE v WHERE pk = 'a' AND sk = 2 "
                    f"RETURNING ALL NEW *")
    assert resp["Items"] == [{"pk": S("a"), "sk": N(2), "n": N(8),
                              "m": {"M": {"k": {"L": [S("z"), N(2)]}}}, "l": {"L": [N(3)]}}]
    resp = run(ddb, f"UPDATE \"{tbl}\" SET n = ? WHERE pk = 'a' AND sk = 2 RETURNING MODIFIED "
                    f"OLD *", N(1))
    assert resp["Items"] == [{"n": N(8)}]
    resp = run(ddb, f"UPDATE \"{tbl}\" SET ss = set_add(ss, <<'q'>>) WHERE pk = 'a' AND sk = 2 "
                    f"RETURNING MODIFIED NEW *")
    assert resp["Items"] == [{"ss": {"SS": ["q"]}}]
    resp = run(ddb, f"UPDATE \"{tbl}\" SET v = 'w' WHERE pk = 'a' AND sk = 1")
    assert resp["Items"] == []
    assert get(ddb, tbl, "a", 1)["v"] == S("w")


def test_update_conditions(ddb, tbl):
    with raises_client_error("ConditionalCheckFailedException", "The conditional request failed"):
        run(ddb, f"UPDATE \"{tbl}\" SET v = 'q' WHERE pk = 'a' AND sk = 1 AND n = 100")
    # UPDATE never creates an item.
    with raises_client_error("ConditionalCheckFailedException", "The conditional request failed"):
        run(ddb, f"UPDATE \"{tbl}\" SET v = 'q' WHERE pk = 'zz' AND sk = 1")
    assert get(ddb, tbl, "zz", 1) is None
    run(ddb, f"UPDATE \"{tbl}\" SET v = 'q' WHERE pk = 'a' AND sk = 1 AND n = 5")
    assert get(ddb, tbl, "a", 1)["v"] == S("q")


def test_update_and_delete_need_the_full_key(ddb, tbl):
    message = "Where clause does not contain a mandatory equality on all key attributes"
    for bad in (f"UPDATE \"{tbl}\" SET v = 1 WHERE pk = 'a'",
                f"UPDATE \"{tbl}\" SET v = 1",
                f"UPDATE \"{tbl}\" SET v = 1 WHERE pk = 'a' AND sk = 1 OR sk = 2",
                f"DELETE FROM \"{tbl}\" WHERE pk = 'a'"):
        with raises_client_error("ValidationException", message):
            run(ddb, bad)
    with raises_client_error("ValidationException",
                             "Multiple conditions on same key sk. Only single item "
                             "Update/Insert/Delete are supported"):
        run(ddb, f"DELETE FROM \"{tbl}\" WHERE pk = 'a' AND sk = 1 AND sk = 2")
    with raises_client_error("ValidationException",
                             "One or more parameter values were invalid: Cannot update attribute "
                             "pk. This attribute is part of the key"):
        run(ddb, f"UPDATE \"{tbl}\" SET pk = 'q' WHERE pk = 'a' AND sk = 1")


def test_delete(ddb, tbl):
    with raises_client_error("ConditionalCheckFailedException", "The conditional request failed"):
        run(ddb, f"DELETE FROM \"{tbl}\" WHERE pk = 'a' AND sk = 1 AND v = 'nope'")
    resp = run(ddb, f"DELETE FROM \"{tbl}\" WHERE pk = ? AND sk = ? RETURNING ALL OLD *",
               S("a"), N(1))
    assert resp["Items"] == [{"pk": S("a"), "sk": N(1), "v": S("x"), "n": N(5)}]
    assert get(ddb, tbl, "a", 1) is None
    assert run(ddb, f"DELETE FROM \"{tbl}\" WHERE pk = 'zz' AND sk = 1")["Items"] == []
    with raises_client_error("ValidationException",
                             "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL "
                             "OLD * is allowed in DELETE statements."):
        run(ddb, f"DELETE FROM \"{tbl}\" WHERE pk = 'a' AND sk = 2 RETURNING ALL NEW *")


# ---- BatchExecuteStatement ----------------------------------------------------------------


def test_batch_reads(ddb, tbl):
    resp = ddb.batch_execute_statement(Statements=[
        {"Statement": f'SELECT * FROM "{tbl}" WHERE pk = ? AND sk = ?',
         "Parameters": [S("a"), N(1)]},
        {"Statement": f'SELECT v FROM "{tbl}" WHERE pk = ? AND sk = ?',
         "Parameters": [S("a"), N(99)]},
        {"Statement": f'SELECT * FROM "{tbl}" WHERE pk = ?', "Parameters": [S("a")]},
        {"Statement": f'SELEC * FROM "{tbl}"'},
    ])["Responses"]
    assert resp[0] == {"TableName": tbl, "Item": {"pk": S("a"), "sk": N(1), "v": S("x"),
                                                  "n": N(5)}}
    assert resp[1] == {"TableName": tbl}
    assert resp[2]["Error"] == {"Code": "ValidationError",
                                "Message": "Only single item select is supported"}
    assert resp[3]["Error"]["Code"] == "ValidationError"
    assert resp[3]["Error"]["Message"].startswith("Statement wasn't well formed")


def test_batch_writes_report_per_statement_errors(ddb, tbl):
    resp = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'd', 'sk': 1}}"},
        {"Statement": f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'a', 'sk': 1}}"},
        {"Statement": f"UPDATE \"{tbl}\" SET x = 1 WHERE pk = 'a' AND sk = 2"},
        {"Statement": f"UPDATE \"{tbl}\" SET x = 1 WHERE pk = 'zz' AND sk = 1"},
        {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = 'b' AND sk = 1"},
    ])["Responses"]
    assert resp[0] == {"TableName": tbl}
    assert resp[1] == {"TableName": tbl, "Error": {
        "Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}
    assert resp[2] == {"TableName": tbl}
    assert resp[3] == {"TableName": tbl, "Error": {
        "Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}}
    assert resp[4] == {"TableName": tbl}
    assert get(ddb, tbl, "d", 1) is not None
    assert get(ddb, tbl, "a", 2)["x"] == N(1)
    assert get(ddb, tbl, "b", 1) is None


def test_batch_rules(ddb, tbl):
    with raises_client_error("ValidationException",
                             "Read and write requests together in the same batch is not "
                             "supported."):
        ddb.batch_execute_statement(Statements=[
            {"Statement": f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'd', 'sk': 2}}"},
            {"Statement": f"SELECT * FROM \"{tbl}\" WHERE pk = 'a' AND sk = 1"},
        ])
    with raises_client_error("ValidationException",
                             "Provided list of item keys contains duplicates"):
        ddb.batch_execute_statement(Statements=[
            {"Statement": f"UPDATE \"{tbl}\" SET x = 1 WHERE pk = 'a' AND sk = 1"},
            {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = 'a' AND sk = 1"},
        ])
    assert get(ddb, tbl, "d", 2) is None


# ---- ExecuteTransaction -------------------------------------------------------------------


def test_transaction_writes_commit_together(ddb, tbl):
    ddb.execute_transaction(TransactStatements=[
        {"Statement": f"INSERT INTO \"{tbl}\" VALUE {{'pk': 't', 'sk': 1}}"},
        {"Statement": f'UPDATE "{tbl}" SET n = n + ? WHERE pk = ? AND sk = 1',
         "Parameters": [N(10), S("a")]},
        {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = 'b' AND sk = 1"},
    ])
    assert get(ddb, tbl, "t", 1) == {"pk": S("t"), "sk": N(1)}
    assert get(ddb, tbl, "a", 1)["n"] == N(15)
    assert get(ddb, tbl, "b", 1) is None


def test_transaction_cancellation_is_all_or_nothing(ddb, tbl):
    with raises_client_error("TransactionCanceledException") as holder:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"INSERT INTO \"{tbl}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            {"Statement": f"UPDATE \"{tbl}\" SET v = 'q' WHERE pk = 'a' AND sk = 2 AND n = 0"},
            {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = 'b' AND sk = 1"},
            {"Statement": f"UPDATE \"{tbl}\" SET v = 'q' WHERE pk = 'zz' AND sk = 1"},
        ])
    error = holder.error.response
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ValidationError, ConditionalCheckFailed, None, ConditionalCheckFailed]")
    assert error["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": "Duplicate primary key exists in table"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert get(ddb, tbl, "b", 1) is not None
    assert get(ddb, tbl, "a", 2)["v"] == S("y")


def test_transaction_reads(ddb, tbl):
    resp = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT * FROM \"{tbl}\" WHERE pk = 'a' AND sk = 1"},
        {"Statement": f"SELECT m FROM \"{tbl}\" WHERE pk = 'b' AND sk = 1"},
        {"Statement": f"SELECT v FROM \"{tbl}\" WHERE pk = 'zz' AND sk = 1"},
    ])
    assert resp["Responses"] == [
        {"Item": {"pk": S("a"), "sk": N(1), "v": S("x"), "n": N(5)}},
        {"Item": {}},
        {},
    ]


def test_transaction_rules(ddb, tbl):
    with raises_client_error("ValidationException",
                             "ExecuteTransaction API does not support both read and write "
                             "operations in the same request."):
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"SELECT * FROM \"{tbl}\" WHERE pk = 'a' AND sk = 1"},
            {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = 'b' AND sk = 1"},
        ])
    with raises_client_error("ValidationException",
                             "Transaction request cannot include multiple operations on one "
                             "item"):
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = 'b' AND sk = 1"},
            {"Statement": f"UPDATE \"{tbl}\" SET v = 1 WHERE pk = 'b' AND sk = 1"},
        ])
    with raises_client_error("ValidationException",
                             "Validation failed in TransactStatements[0]: Select statements "
                             "within ExecuteTransaction must specify the primary key in the "
                             "where clause."):
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"SELECT * FROM \"{tbl}\" WHERE pk = 'a'"}])
    with raises_client_error("ValidationException",
                             "Validation failed in TransactStatements[0]: Number of parameters "
                             "in request and statement don't match."):
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"DELETE FROM \"{tbl}\" WHERE pk = ? AND sk = 1"}])
    with raises_client_error("ValidationException",
                             "Validation failed in TransactStatements[0]: RETURNING clause is "
                             "not supported in ExecuteTransaction."):
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{tbl}\" SET v = 1 WHERE pk = 'a' AND sk = 1 "
                          f"RETURNING ALL NEW *"}])
    assert get(ddb, tbl, "b", 1) is not None


def test_transaction_client_request_token(ddb, tbl):
    token = f"partiql-{uuid.uuid4().hex[:12]}"
    statements = [{"Statement": f'UPDATE "{tbl}" SET n = n + 1 WHERE pk = \'a\' AND sk = 1'}]
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    assert get(ddb, tbl, "a", 1)["n"] == N(6)
    other = [{"Statement": f'UPDATE "{tbl}" SET n = 0 WHERE pk = \'a\' AND sk = 1'}]
    with raises_client_error("IdempotentParameterMismatchException"):
        ddb.execute_transaction(TransactStatements=other, ClientRequestToken=token)

import pytest

from migguard.lint.rules.ban_narrowing_type_change import Using, narrowing, parse_type
from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-narrowing-type-change"


def test_flags_change_to_a_limited_varchar(snapshot):
    assert assert_flags("ALTER TABLE accounts ALTER COLUMN email TYPE varchar(100);", RULE, count=1,
                        severity="error") == snapshot


def test_names_the_old_type_when_the_file_declares_it(snapshot):
    sql = ("ALTER TABLE events ALTER COLUMN id TYPE bigint, ALTER COLUMN total TYPE numeric,\n"
           "  ALTER COLUMN happened_at TYPE timestamptz;\n"
           "ALTER TABLE events ALTER COLUMN id TYPE integer, ALTER COLUMN total TYPE numeric(10, 2),\n"
           "  ALTER COLUMN happened_at SET DATA TYPE date;")
    assert assert_flags(sql, RULE, count=3, severity="error") == snapshot


def test_table_or_column_created_earlier_in_the_file_is_info():
    sql = ("CREATE TABLE t (name text);\nALTER TABLE t ALTER COLUMN name TYPE varchar(50);\n"
           "ALTER TABLE accounts ADD COLUMN code text;\nALTER TABLE accounts ALTER COLUMN code TYPE char(2);")
    assert_flags(sql, RULE, count=2, severity="info")


def test_using_cast_that_can_fail(snapshot):
    sql = 'ALTER TABLE ONLY "Billing".invoices ALTER "Status" TYPE invoice_status USING "Status"::text::invoice_status;'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_old_type_from_an_earlier_add_column_or_type_change():
    sql = ("ALTER TABLE a ALTER COLUMN code TYPE text;\nALTER TABLE a ALTER COLUMN code TYPE uuid USING code::uuid;\n"
           "ALTER TABLE a ALTER COLUMN code TYPE text;\nALTER TABLE a ALTER COLUMN code TYPE char(3);")
    findings = assert_flags(sql, RULE, count=2, severity="error")
    assert "from text to uuid" in findings and "from text to char(3)" in findings


def test_recognised_form_when_sqlglot_cannot_parse():
    # sqlglot rejects the multi-action statement with a constraint USING INDEX; PostgreSQL's grammar is used.
    sql = ("ALTER TABLE a ALTER COLUMN x TYPE varchar(20), ADD CONSTRAINT a_x UNIQUE USING INDEX a_x_idx;\n"
           "ALTER TABLE a ALTER COLUMN y TYPE int USING y::integer, ADD CONSTRAINT a_y UNIQUE USING INDEX a_y_idx;")
    assert_flags(sql, RULE, count=2)


def test_mixed_case_in_explicit_transaction_and_allow_destructive():
    sql = "BEGIN;\nAlter Table Accounts Alter Column Age Type SmallInt;\nCOMMIT;"
    assert_flags(sql, RULE, count=1, severity="warning", allow_destructive=True)


def test_clean_on_widening_changes():
    sql = ("ALTER TABLE a ALTER COLUMN id TYPE bigint;\nALTER TABLE a ALTER COLUMN name TYPE text;\n"
           "ALTER TABLE a ALTER COLUMN ts TYPE timestamptz USING ts AT TIME ZONE 'UTC';\n"
           "ALTER TABLE a ALTER COLUMN doc TYPE jsonb USING doc::jsonb;\nALTER TABLE a ALTER COLUMN n TYPE integer;\n"
           "ALTER TABLE a ALTER COLUMN amount TYPE numeric(65, 30);")
    assert_clean(sql, RULE)
    sql = ("CREATE TABLE b (code varchar(10), n smallint, r real);\nCOMMIT;\n"
           "ALTER TABLE b ALTER COLUMN code TYPE varchar(20), ALTER COLUMN n TYPE integer,\n"
           "  ALTER COLUMN r TYPE double precision, ALTER COLUMN n TYPE numeric(12, 2);")
    assert_clean(sql, RULE)


def test_clean_when_using_spells_the_conversion_out():
    sql = ("ALTER TABLE a ALTER COLUMN sort TYPE smallint USING CASE sort WHEN 'new' THEN 0 ELSE 1 END;\n"
           "ALTER TABLE a ALTER COLUMN started TYPE integer USING extract(epoch FROM started)::integer;")
    assert_clean(sql, RULE)


def test_clean_on_other_alter_column_forms_and_text():
    assert_clean("ALTER TABLE a ALTER COLUMN x SET DEFAULT 1, ALTER COLUMN x DROP NOT NULL;", RULE)
    assert_clean("-- ALTER TABLE a ALTER COLUMN x TYPE varchar(1);\nSELECT 'ALTER TABLE a ALTER x TYPE char(1)';", RULE)


@pytest.mark.parametrize(("old", "new", "flagged"), [
    ("text", "varchar(10)", True), (None, "varchar(10)", True), ("varchar(10)", "varchar(20)", False),
    ("varchar(20)", "varchar(10)", True), ("varchar(10)", "text", False), ("char(5)", "varchar(5)", False),
    ("int", "bigint", False), ("bigint", "int", True), ("int", "smallint", True), (None, "smallint", True),
    (None, "int", False), ("numeric", "numeric(10,2)", True), ("int4", "numeric(12,2)", False),
    ("int8", "numeric(12,2)", True), ("numeric(10,4)", "numeric(12,2)", True), ("timestamptz", "date", True),
    ("timestamp", "timestamptz", False), ("float8", "float4", True), ("real", "double precision", False),
    ("text", "integer", True), ("text", "uuid", True), ("json", "jsonb", False), ("text", "jsonb", True),
    ("my_enum", "other_enum", True), ("text", "citext", False), ("varchar(10)[]", "varchar(5)[]", True),
    ("uuid", "text", False), (None, "char", True),
])
def test_narrowing_table(old, new, flagged):
    assert (narrowing(parse_type(old) if old else None, parse_type(new), Using("none")) is not None) == flagged


def test_unknown_old_type_and_a_using_cast():
    assert narrowing(None, parse_type("uuid"), Using("cast", parse_type("uuid")))
    assert narrowing(None, parse_type("my_enum"), Using("cast", parse_type("my_enum")))
    assert narrowing(None, parse_type("jsonb"), Using("cast", parse_type("jsonb"))) is None
    assert narrowing(None, parse_type("timestamptz"), Using("cast", parse_type("timestamptz"))) is None

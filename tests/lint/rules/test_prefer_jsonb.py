from tests.lint.lintkit import assert_clean, assert_flags

RULE = "prefer-jsonb"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_json_column_in_create_table(snapshot):
    sql = "CREATE TABLE events (id bigint PRIMARY KEY, payload json NOT NULL);"
    assert assert_flags(sql, RULE, severity="warning") == snapshot


def test_flags_add_column_and_type_change(snapshot):
    sql = "ALTER TABLE events ADD COLUMN meta JSON;\nALTER TABLE events ALTER COLUMN body TYPE json USING body::json;"
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_quoted_schema_qualified_arrays_and_mixed_case():
    sql = 'Create Table If Not Exists "Audit"."Log" ("Data" Json, tags pg_catalog.json, list json[]);'
    text = assert_flags(sql, RULE, count=3)
    assert "Audit.Log.Data" in text and "json[]" in text


def test_create_table_sqlglot_rejects():
    sql = "CREATE TABLE events (id int, payload json, CONSTRAINT pk PRIMARY KEY (id) NOT DEFERRABLE INITIALLY IMMEDIATE);"
    assert_flags(sql, RULE, count=1)


def test_statement_sqlglot_rejects():
    assert_flags(f"ALTER TABLE events ADD COLUMN meta json{FALLBACK};", RULE, count=1)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE events ADD COLUMN meta json;\nCOMMIT;", RULE, count=1)


def test_clean_on_jsonb_and_json_in_expressions():
    assert_clean("CREATE TABLE events (payload jsonb, tags jsonb[]);", RULE)
    assert_clean("ALTER TABLE events ADD COLUMN meta jsonb DEFAULT '{}'::json::jsonb;", RULE)
    assert_clean("SELECT '{}'::json;", RULE)
    assert_clean("CREATE VIEW v AS SELECT payload::json AS p FROM events;", RULE)
    assert_clean("CREATE FUNCTION f(p json) RETURNS json LANGUAGE sql AS $$ SELECT p $$;", RULE)
    assert_clean("CREATE TABLE events (json_payload text);", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- CREATE TABLE t (p json);\nSELECT 'CREATE TABLE t (p json)';\n"
           "DO $$ BEGIN CREATE TABLE t (p json); END $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "prefer-text-field"


def test_flags_varchar_with_limit(snapshot):
    sql = "CREATE TABLE users (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n" \
          "    email varchar(255) NOT NULL\n);"
    assert assert_flags(sql, RULE, count=1, severity="warning") == snapshot


def test_flags_character_varying_arrays_and_qualified_spelling():
    sql = "CREATE TABLE t (a character varying(20), b varchar(3)[], c pg_catalog.varchar(5));"
    assert_flags(sql, RULE, count=3)


def test_flags_add_and_alter_column_quoted_mixed_case(snapshot):
    sql = 'ALTER TABLE "Crm".Contacts ADD COLUMN "Phone" VARCHAR(32), ALTER COLUMN name TYPE varchar(100);'
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_flags_statement_only_postgres_parses():
    sql = "ALTER TABLE report ADD COLUMN reason varchar(500) REFERENCES r ON UPDATE CASCADE ON DELETE CASCADE " \
          "NOT NULL, ADD CONSTRAINT k NOT NULL reason;"
    assert_flags(sql, RULE, count=1)


def test_flags_inside_explicit_transaction():
    assert_flags("BEGIN;\nCREATE TABLE t (code varchar(8));\nCOMMIT;", RULE)


def test_clean_on_text_unlimited_varchar_and_char():
    sql = "CREATE TABLE t (a text, b varchar, c character varying, d char(2), e text CHECK (char_length(e) <= 9));"
    assert_clean(sql, RULE)


def test_clean_on_casts_functions_and_composite_types():
    sql = "SELECT 'x'::varchar(3);\nCREATE TYPE pair AS (k varchar(10), v text);\n" \
          "ALTER TYPE pair ADD ATTRIBUTE w varchar(5);\n" \
          "CREATE FUNCTION f(a varchar(3)) RETURNS varchar(3) LANGUAGE sql AS $$ SELECT a $$;"
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "prefer-timestamptz"


def test_flags_add_column_timestamp(snapshot):
    assert assert_flags("ALTER TABLE orders ADD COLUMN shipped_at timestamp;", RULE, severity="warning") == snapshot


def test_flags_every_spelling_in_create_table(snapshot):
    sql = 'CREATE TABLE IF NOT EXISTS "Audit".events (\n    a timestamp,\n    b timestamp(3),\n' \
          '    "C" TIMESTAMP WITHOUT TIME ZONE,\n    d timestamp[],\n    e timestamptz\n);'
    assert assert_flags(sql, RULE, count=4) == snapshot


def test_flags_alter_column_type():
    assert_flags("ALTER TABLE t ALTER COLUMN happened_at SET DATA TYPE timestamp USING happened_at::timestamp;", RULE)
    assert_flags("ALTER TABLE t ALTER happened_at TYPE timestamp(0) without time zone;", RULE)


def test_flags_statement_only_postgres_parses():
    sql = "CREATE TABLE saved (person_id int REFERENCES person ON UPDATE CASCADE ON DELETE CASCADE NOT NULL, " \
          "published timestamp NOT NULL DEFAULT now());"
    assert_flags(sql, RULE, count=1)


def test_flags_inside_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE t ADD COLUMN x timestamp;\nCOMMIT;", RULE)


def test_clean_on_timestamptz_date_and_time():
    assert_clean("CREATE TABLE t (a timestamptz, b timestamp with time zone, c date, d time, e timestamptz(3));", RULE)
    assert_clean("ALTER TABLE t ALTER COLUMN a TYPE timestamptz USING a AT TIME ZONE 'UTC';", RULE)


def test_clean_on_casts_functions_and_views():
    sql = "SELECT now()::timestamp;\nCREATE VIEW v AS SELECT created_at::timestamp AS local FROM t;\n" \
          "CREATE FUNCTION f(t timestamp) RETURNS timestamp LANGUAGE sql AS $$ SELECT t $$;"
    assert_clean(sql, RULE)


def test_clean_on_temporary_tables_and_composite_types():
    assert_clean("CREATE TEMP TABLE scratch (at timestamp);\nCREATE TYPE span AS (a timestamp, b timestamp);", RULE)

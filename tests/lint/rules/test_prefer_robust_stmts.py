from tests.lint.lintkit import assert_clean, assert_flags

RULE = "prefer-robust-stmts"
NOT_WRAPPED = {"assume_in_transaction": False}


def test_flags_concurrent_index_without_if_not_exists(snapshot):
    sql = "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);"
    assert assert_flags(sql, RULE, count=1, severity="warning") == snapshot


def test_flags_create_drop_and_alter_when_not_wrapped(snapshot):
    sql = 'CREATE TABLE "Crm".Contacts (id bigint);\nDROP TABLE old_contacts;\n' \
          'ALTER TABLE "Crm".Contacts ADD COLUMN note text, DROP COLUMN legacy, DROP CONSTRAINT "Chk";'
    assert assert_flags(sql, RULE, count=5, **NOT_WRAPPED) == snapshot


def test_flags_drops_of_every_kind():
    sql = "DROP INDEX CONCURRENTLY i;\nDROP VIEW v;\nDROP MATERIALIZED VIEW mv;\nDROP FUNCTION f(int);\n" \
          "DROP POLICY p ON t;\nDROP EXTENSION e;\nDROP TYPE ty;\nDROP SEQUENCE s;"
    assert_flags(sql, RULE, count=8)


def test_flags_unnamed_index():
    assert_flags("CREATE UNIQUE INDEX ON t (a);", RULE, count=1, **NOT_WRAPPED)


def test_flags_statements_only_postgres_parses():
    sql = "CREATE TABLE saved (person_id int REFERENCES person ON UPDATE CASCADE ON DELETE CASCADE NOT NULL);\n" \
          "ALTER TABLE t ADD COLUMN x int REFERENCES p ON UPDATE CASCADE ON DELETE CASCADE NOT NULL, " \
          "ADD CONSTRAINT k NOT NULL x;"
    assert_flags(sql, RULE, count=2, **NOT_WRAPPED)


def test_clean_with_guards_mixed_case():
    sql = "create index concurrently if not exists i on t (a);\nDrop Index Concurrently If Exists j;\n" \
          "CREATE TABLE IF NOT EXISTS t (a int);\nALTER TABLE t ADD COLUMN IF NOT EXISTS b int, " \
          "DROP COLUMN IF EXISTS c, DROP CONSTRAINT IF EXISTS d;\nDROP POLICY IF EXISTS p ON t;"
    assert_clean(sql, RULE)


def test_clean_in_files_migguard_wraps_in_a_transaction():
    assert_clean("CREATE TABLE t (a int);\nDROP TABLE u;\nALTER TABLE t ADD COLUMN b int;", RULE)


def test_clean_inside_an_explicit_transaction():
    sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nBEGIN;\nCREATE TABLE t2 (a int);\n" \
          "ALTER TABLE t2 ADD COLUMN b int;\nCOMMIT;"
    assert_clean(sql, RULE)


def test_clean_on_temporary_tables():
    assert_clean("CREATE TEMP TABLE scratch (a int);", RULE, **NOT_WRAPPED)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = "-- CREATE TABLE t (a int);\nSELECT 'DROP TABLE t';\n" \
          "CREATE FUNCTION IF_NOT_EXISTS_TEST() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;\n" \
          "DO $$ BEGIN CREATE TABLE t (a int); END $$;"
    assert_clean(sql, RULE, **NOT_WRAPPED)

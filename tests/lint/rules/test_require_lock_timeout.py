from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-lock-timeout"


def test_flags_the_first_strong_lock_only(snapshot):
    sql = "ALTER TABLE accounts ADD COLUMN note text;\nDROP INDEX accounts_email_idx;"
    assert assert_flags(sql, RULE, count=1, severity="warning") == snapshot


def test_foreign_key_to_an_existing_table_from_a_new_one(snapshot):
    sql = "CREATE TABLE notes (id bigint, account_id bigint REFERENCES billing.accounts (id));"
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_each_kind_of_strong_lock():
    for sql in ("CREATE INDEX i ON accounts (email);", "DROP INDEX IF EXISTS i;", "DROP TABLE accounts;",
                "TRUNCATE accounts;", "REINDEX TABLE accounts;", "VACUUM FULL accounts;", "CLUSTER accounts;",
                "REFRESH MATERIALIZED VIEW totals;", "CREATE POLICY p ON accounts USING (true);",
                "CREATE TRIGGER t AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION f();",
                "ALTER TABLE accounts RENAME COLUMN a TO b;", "ALTER TABLE accounts RENAME CONSTRAINT a TO b;",
                'alter table if exists "Billing"."Accounts" Enable Row Level Security;',
                "ALTER TABLE accounts ADD CHECK (a > 0);"):
        assert_flags(sql, RULE, count=1)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE accounts ADD COLUMN note text;\nCOMMIT;", RULE, count=1)


def test_clean_when_a_lock_timeout_comes_first():
    for setting in ("SET lock_timeout = '2s';", "SET LOCAL lock_timeout TO '2s';",
                    "SELECT set_config('lock_timeout', '2s', true);", "set Lock_Timeout = 1000;"):
        assert_clean(f"{setting}\nALTER TABLE accounts ADD COLUMN note text;", RULE)


def test_a_lock_timeout_after_the_statement_is_too_late():
    assert_flags("ALTER TABLE accounts ADD COLUMN note text;\nSET lock_timeout = '2s';", RULE)


def test_clean_on_tables_created_in_the_file_and_weak_locks():
    sql = ("CREATE TABLE notes (id bigint, body text);\nALTER TABLE notes ADD COLUMN title text;\n"
           "CREATE INDEX notes_body_idx ON notes (body);\nDROP INDEX notes_body_idx;")
    assert_clean(sql, RULE)
    assert_clean("CREATE INDEX CONCURRENTLY i ON accounts (email);\nDROP INDEX CONCURRENTLY j;", RULE)
    assert_clean("ALTER TABLE accounts VALIDATE CONSTRAINT c;\nALTER TABLE accounts SET (fillfactor = 70);", RULE)
    assert_clean("REFRESH MATERIALIZED VIEW CONCURRENTLY totals;\nUPDATE accounts SET a = 1 WHERE id = 2;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE t ADD COLUMN x int;\nSELECT 'ALTER TABLE t ADD COLUMN x int';\n"
           "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ ALTER TABLE t ADD COLUMN x int $$;")
    assert_clean(sql, RULE)


def test_a_timeout_switched_off_again_does_not_count():
    for setting in ("SET lock_timeout = 0;", "SET lock_timeout TO '0';", "SET lock_timeout = '0s';",
                    "SET lock_timeout TO DEFAULT;", "RESET lock_timeout;",
                    "SELECT pg_catalog.set_config('lock_timeout', '0', false);"):
        assert_flags(f"SET lock_timeout = '2s';\n{setting}\nALTER TABLE accounts ADD COLUMN note text;", RULE)
    assert_clean("SET lock_timeout = 0;\nSET lock_timeout = '5s';\nALTER TABLE accounts ADD COLUMN note text;", RULE)
    assert_clean("SET lock_timeout = '10s';\nALTER TABLE accounts ADD COLUMN note text;", RULE)
    assert_clean("SET lock_timeout = 100;\nALTER TABLE accounts ADD COLUMN note text;", RULE)


def test_clean_on_a_new_table_that_references_itself_or_a_new_table():
    sql = ("CREATE TABLE nodes (id bigint PRIMARY KEY, parent_id bigint REFERENCES nodes (id));\n"
           "CREATE TABLE edges (a bigint REFERENCES nodes (id), b bigint, FOREIGN KEY (b) REFERENCES public.nodes);")
    assert_clean(sql, RULE)

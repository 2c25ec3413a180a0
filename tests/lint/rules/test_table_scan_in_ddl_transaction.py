"""ban-update-in-ddl-transaction, generalised: any statement that reads or writes a whole table the
transaction holds a strong lock on (eugene E4)."""

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-update-in-ddl-transaction"


def test_flags_a_read_under_access_exclusive(snapshot):
    sql = "alter table authors\n    add column email text;\nselect count(*) from authors;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_delete_insert_select_and_reads_in_subqueries():
    base = "ALTER TABLE accounts ADD COLUMN plan text;\n"
    out = assert_flags(base + "DELETE FROM accounts WHERE plan IS NULL;", RULE, count=1)
    assert "DELETE from accounts" in out
    assert "INSERT … SELECT into accounts" in assert_flags(base + "INSERT INTO accounts (id) SELECT id FROM legacy;",
                                                          RULE, count=1)
    assert_flags(base + "INSERT INTO archive SELECT * FROM public.accounts;", RULE, count=1)
    assert_flags(base + "SELECT setval('s', (SELECT max(id) FROM accounts));", RULE, count=1)


def test_writes_under_share_lock_but_not_reads():
    base = "CREATE INDEX accounts_plan ON accounts (plan);\n"
    assert_flags(base + "DELETE FROM accounts WHERE id < 10;", RULE, count=1)
    assert_clean(base + "SELECT count(*) FROM accounts;", RULE)


def test_clean_on_values_ctes_other_tables_and_new_tables():
    base = "ALTER TABLE accounts ADD COLUMN plan text;\n"
    assert_clean(base + "INSERT INTO accounts (id, plan) VALUES (1, 'free');", RULE)
    assert_clean(base + "WITH accounts AS (SELECT 1 AS id) SELECT * FROM accounts;", RULE)
    assert_clean(base + "SELECT count(*) FROM users;", RULE)
    assert_clean("SELECT count(*) FROM accounts;\n" + base, RULE)
    assert_clean("CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN t text;\nSELECT count(*) FROM n;", RULE)
    # A file with CONCURRENTLY is not wrapped: each statement commits on its own.
    assert_clean(base + "SELECT count(*) FROM accounts;\nCREATE INDEX CONCURRENTLY i ON accounts (plan);", RULE)

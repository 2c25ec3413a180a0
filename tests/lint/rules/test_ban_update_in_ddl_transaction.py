from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-update-in-ddl-transaction"


def test_flags_backfill_after_alter(snapshot):
    sql = "ALTER TABLE accounts ADD COLUMN plan text;\nUPDATE accounts SET plan = 'free' WHERE plan IS NULL;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_names_the_strongest_lock_held(snapshot):
    sql = ("CREATE INDEX accounts_plan_idx ON accounts (plan);\n"
           "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (account_id) REFERENCES accounts NOT VALID;\n"
           "ALTER TABLE accounts ADD COLUMN note text;\n"
           "update Public.Accounts AS a SET note = '' FROM orders o WHERE o.account_id = a.id;")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_quoted_schema_qualified_in_explicit_block_of_unwrapped_file():
    sql = ('BEGIN;\nALTER TABLE "Billing"."Accounts" ADD COLUMN plan text;\n'
           'UPDATE "Billing"."Accounts" SET plan = \'free\';\nCOMMIT;')
    assert_flags(sql, RULE, count=1, assume_in_transaction=False)


def test_update_in_a_with_clause():
    sql = ("ALTER TABLE accounts ADD COLUMN plan text;\n"
           "WITH moved AS (UPDATE accounts SET plan = 'free' RETURNING id) SELECT count(*) FROM moved;")
    assert_flags(sql, RULE, count=1)


def test_foreign_key_lock_on_the_referenced_table_counts():
    sql = ("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (account_id) REFERENCES accounts NOT VALID;\n"
           "UPDATE accounts SET plan = 'free';")
    assert_flags(sql, RULE, count=1)


def test_clean_when_the_update_comes_first_or_in_another_transaction():
    assert_clean("UPDATE accounts SET plan = 'free';\nALTER TABLE accounts ALTER COLUMN plan SET NOT NULL;", RULE)
    sql = ("BEGIN;\nALTER TABLE accounts ADD COLUMN plan text;\nCOMMIT;\n"
           "UPDATE accounts SET plan = 'free' WHERE id < 1000;")
    assert_clean(sql, RULE, assume_in_transaction=False)
    # A file with CONCURRENTLY is not wrapped: each statement commits on its own.
    sql = ("ALTER TABLE accounts ADD COLUMN plan text;\nUPDATE accounts SET plan = 'free';\n"
           "CREATE INDEX CONCURRENTLY i ON accounts (plan);")
    assert_clean(sql, RULE)


def test_clean_on_other_tables_new_tables_and_weak_locks():
    assert_clean("ALTER TABLE accounts ADD COLUMN plan text;\nUPDATE users SET plan = 'free';", RULE)
    assert_clean("CREATE TABLE notes (body text);\nALTER TABLE notes ADD COLUMN t text;\nUPDATE notes SET t = '';",
                 RULE)
    assert_clean("CREATE INDEX CONCURRENTLY i ON accounts (plan);\nUPDATE accounts SET plan = 'free';", RULE)
    assert_clean("ALTER TABLE accounts VALIDATE CONSTRAINT c;\nUPDATE accounts SET plan = 'free';", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("ALTER TABLE accounts ADD COLUMN plan text;\n-- UPDATE accounts SET plan = 'free';\n"
           "SELECT 'UPDATE accounts SET plan = 1';\nDO $$ BEGIN UPDATE other SET x = 1; END $$;")
    assert_clean(sql, RULE)

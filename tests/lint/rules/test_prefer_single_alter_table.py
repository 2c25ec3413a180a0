from tests.lint.lintkit import assert_clean, assert_flags

RULE = "prefer-single-alter-table"


def test_flags_the_second_alter_with_the_count(snapshot):
    sql = ("ALTER TABLE accounts ADD COLUMN plan text;\n"
           "ALTER TABLE accounts ADD COLUMN trial_ends_at timestamptz;\n"
           "ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'free';")
    assert assert_flags(sql, RULE, count=1, severity="warning") == snapshot


def test_outside_a_transaction_each_queues_again(snapshot):
    sql = ("ALTER TABLE accounts ADD COLUMN plan text;\nALTER TABLE Public.Accounts ADD COLUMN note text;\n"
           "CREATE INDEX CONCURRENTLY i ON users (email);")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_each_table_separately_quoted_and_schema_qualified():
    sql = ('ALTER TABLE "Billing"."Orders" ADD COLUMN a int;\nALTER TABLE billing.orders ADD COLUMN a int;\n'
           'alter table if exists "Billing"."Orders" Add Column b int;')
    out = assert_flags(sql, RULE, count=1)
    assert "2 separate ALTER TABLE statements change Billing.Orders" in out


def test_explicit_transaction_and_sqlglot_fallback():
    sql = ("BEGIN;\nALTER TABLE accounts ADD CHECK (a > 0) NOT VALID;\n"
           "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\nCOMMIT;")
    assert_flags(sql, RULE, count=1)


def test_clean_on_a_single_alter_and_on_new_tables():
    assert_clean("ALTER TABLE accounts ADD COLUMN plan text, ADD COLUMN note text;", RULE)
    sql = "CREATE TABLE notes (id bigint);\nALTER TABLE notes ADD COLUMN a int;\nALTER TABLE notes ADD COLUMN b int;"
    assert_clean(sql, RULE)


def test_clean_when_something_must_run_in_between():
    backfill = ("ALTER TABLE accounts ADD COLUMN plan text;\nUPDATE accounts SET plan = 'free';\n"
                "ALTER TABLE accounts ALTER COLUMN plan SET NOT NULL;")
    assert_clean(backfill, RULE)
    index = ("ALTER TABLE accounts ADD COLUMN code text;\nCREATE UNIQUE INDEX CONCURRENTLY k ON accounts (code);\n"
             "ALTER TABLE accounts ADD CONSTRAINT k UNIQUE USING INDEX k;")
    assert_clean(index, RULE)
    block = ("ALTER TABLE accounts ADD COLUMN plan text;\nDO $$ BEGIN PERFORM 1; END $$;\n"
             "ALTER TABLE accounts ADD COLUMN note text;")
    assert_clean(block, RULE)
    commit = ("BEGIN;\nALTER TABLE accounts ADD COLUMN plan text;\nCOMMIT;\n"
              "BEGIN;\nALTER TABLE accounts ADD COLUMN note text;\nCOMMIT;")
    assert_clean(commit, RULE, assume_in_transaction=False)


def test_clean_on_statements_that_cannot_be_merged_or_take_weak_locks():
    assert_clean("ALTER TABLE accounts ADD COLUMN a int;\nALTER TABLE accounts RENAME COLUMN b TO c;", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN a int;\nALTER TABLE accounts RENAME TO users;", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN a int;\nALTER TABLE accounts VALIDATE CONSTRAINT c;", RULE)
    assert_clean("ALTER TABLE m ADD COLUMN a int;\nALTER TABLE m DETACH PARTITION m_2023;", RULE)
    # A foreign key's lock on the referenced table is not an ALTER of that table.
    assert_clean("ALTER TABLE accounts ADD COLUMN a int;\n"
                 "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES accounts NOT VALID;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("ALTER TABLE t ADD COLUMN a int;\n-- ALTER TABLE t ADD COLUMN b int;\n"
           "SELECT 'ALTER TABLE t ADD COLUMN c int';")
    assert_clean(sql, RULE)


def test_self_referencing_foreign_key_is_one_alter():
    sql = ("ALTER TABLE nodes ADD CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES nodes NOT VALID;\n"
           "ALTER TABLE nodes ADD COLUMN depth int;")
    assert "2 separate ALTER TABLE statements change nodes" in assert_flags(sql, RULE, count=1)

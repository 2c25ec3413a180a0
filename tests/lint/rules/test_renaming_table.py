from tests.lint.lintkit import assert_clean, assert_flags

RULE = "renaming-table"


def test_flags_rename_table(snapshot):
    assert assert_flags("ALTER TABLE customers RENAME TO accounts;", RULE, count=1, severity="error") == snapshot


def test_if_exists_only_quoted_and_schema_qualified():
    assert_flags('alter table if exists only "Billing"."Customers" Rename To "Accounts";', RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE accounts_new (id bigint);\nALTER TABLE accounts_new RENAME TO accounts2;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_explicit_transaction_and_allow_destructive():
    assert_flags("BEGIN;\nALTER TABLE a RENAME TO b;\nCOMMIT;", RULE, severity="warning", allow_destructive=True)


def test_clean_when_a_view_keeps_the_old_name():
    assert_clean("ALTER TABLE customers RENAME TO accounts;\nCREATE VIEW customers AS SELECT * FROM accounts;", RULE)
    assert_clean("ALTER TABLE app.customers RENAME TO accounts;\nCREATE VIEW app.customers AS SELECT * FROM app.accounts;",
                 RULE)


def test_clean_on_column_constraint_index_and_view_renames():
    sql = ("ALTER TABLE a RENAME COLUMN x TO y;\nALTER TABLE a RENAME x TO y;\nALTER TABLE a RENAME CONSTRAINT c TO d;\n"
           "ALTER INDEX i RENAME TO j;\nALTER VIEW v RENAME TO w;\nALTER SEQUENCE s RENAME TO t;")
    assert_clean(sql, RULE)
    assert_clean("-- ALTER TABLE a RENAME TO b;\nSELECT 'ALTER TABLE a RENAME TO b';", RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-validate-same-transaction"


def test_flags_validate_after_not_valid_check(snapshot):
    sql = ("ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;")
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_foreign_key_in_an_explicit_block_of_an_unwrapped_file(snapshot):
    sql = ("BEGIN;\n"
           'ALTER TABLE "Billing".orders ADD CONSTRAINT "Orders_Fk" FOREIGN KEY (a) REFERENCES accounts NOT VALID;\n'
           'alter table "Billing".orders Validate Constraint "Orders_Fk";\n'
           "COMMIT;")
    assert assert_flags(sql, RULE, count=1, assume_in_transaction=False) == snapshot


def test_unnamed_constraint_matched_by_default_name():
    sql = ("ALTER TABLE orders ADD FOREIGN KEY (account_id) REFERENCES accounts NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT orders_account_id_fkey;")
    assert_flags(sql, RULE, count=1)


def test_table_created_earlier_is_info():
    sql = ("CREATE TABLE orders (total int);\nALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT c;")
    assert_flags(sql, RULE, severity="info")


def test_clean_when_a_commit_separates_them():
    sql = ("BEGIN;\nALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\nCOMMIT;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT c;")
    assert_clean(sql, RULE, assume_in_transaction=False)
    # Not wrapped either when the file contains CONCURRENTLY.
    sql = ("ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT c;\nCREATE INDEX CONCURRENTLY i ON orders (total);")
    assert_clean(sql, RULE)


def test_clean_on_other_constraints_tables_and_order():
    assert_clean("ALTER TABLE orders VALIDATE CONSTRAINT c;", RULE)
    sql = "ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT d;"
    assert_clean(sql, RULE)
    sql = "ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\nALTER TABLE items VALIDATE CONSTRAINT c;"
    assert_clean(sql, RULE)
    sql = "ALTER TABLE orders VALIDATE CONSTRAINT c;\nALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;"
    assert_clean(sql, RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\n"
           "-- ALTER TABLE orders VALIDATE CONSTRAINT c;\nSELECT 'ALTER TABLE orders VALIDATE CONSTRAINT c';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE orders VALIDATE CONSTRAINT c'; END $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "constraint-missing-not-valid"


def test_flags_foreign_key(snapshot):
    sql = "ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_check_unnamed_and_sqlglot_fallback(snapshot):
    # An unnamed CHECK is one of the statements sqlglot returns as a Command: PostgreSQL's grammar reads it.
    sql = "ALTER TABLE IF EXISTS ONLY billing.orders ADD CHECK (total >= 0);"
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_flags_column_check_and_referencing_column_with_default(snapshot):
    sql = ("ALTER TABLE orders ADD COLUMN discount int CHECK (discount >= 0),\n"
           "    ADD COLUMN region_id int DEFAULT 1 REFERENCES regions (id);")
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_quoted_names_mixed_case_explicit_transaction():
    sql = ('BEGIN;\nalter table "Billing"."Orders" Add Constraint "Orders_Fk" Foreign Key (a) '
           'References "Billing"."Accounts" (id) On Delete Cascade;\nCOMMIT;')
    out = assert_flags(sql, RULE, count=1)
    assert "Orders_Fk to Billing.Orders" in out and "Billing.Accounts" in out


def test_not_valid_only_covers_the_last_action():
    # sqlglot reads NOT VALID after the last action only; the CHECK before it is validated at once.
    sql = "ALTER TABLE t ADD CONSTRAINT b CHECK (y > 0), ADD CONSTRAINT a FOREIGN KEY (x) REFERENCES u NOT VALID;"
    out = assert_flags(sql, RULE, count=1)
    assert "check constraint b" in out
    # NOT VALID in the middle makes sqlglot give up; PostgreSQL's grammar knows which action it belongs to.
    sql = "ALTER TABLE t ADD CONSTRAINT a FOREIGN KEY (x) REFERENCES u NOT VALID, ADD CONSTRAINT b CHECK (y > 0);"
    out = assert_flags(sql, RULE, count=1)
    assert "check constraint b" in out


def test_table_created_earlier_is_info():
    sql = ("CREATE TABLE orders (id bigint, account_id bigint);\n"
           "ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id);")
    assert_flags(sql, RULE, severity="info")


def test_clean_on_not_valid_and_other_constraints():
    assert_clean("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES accounts (id) NOT VALID;", RULE)
    assert_clean("ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;", RULE)
    assert_clean("ALTER TABLE orders VALIDATE CONSTRAINT c;", RULE)
    assert_clean("ALTER TABLE orders ADD CONSTRAINT u UNIQUE (code);", RULE)
    assert_clean("CREATE TABLE orders (id bigint, a bigint REFERENCES accounts (id), CHECK (id > 0));", RULE)


def test_referencing_column_without_default_is_not_checked():
    # PostgreSQL skips the foreign key check for a new column that is all NULL.
    assert_clean("ALTER TABLE orders ADD COLUMN region_id int REFERENCES regions (id);", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0);\nSELECT 'ALTER TABLE t ADD CHECK (x > 0)';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD CHECK (x > 0)'; END $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-check-for-set-not-null"


def test_flags_set_not_null(snapshot):
    sql = "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_before_postgresql_12_even_a_valid_check_does_not_help(snapshot):
    sql = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
           "ALTER TABLE accounts VALIDATE CONSTRAINT c;\n"
           "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert assert_flags(sql, RULE, count=1, pg_version=11) == snapshot


def test_quoted_schema_qualified_mixed_case_several_columns_explicit_transaction():
    sql = ('BEGIN;\nalter table if exists "Billing".Accounts Alter "Email" Set Not Null, alter name set not null;\n'
           'COMMIT;')
    out = assert_flags(sql, RULE, count=2)
    assert "Billing.accounts.Email" in out and "Billing.accounts.name" in out


def test_sqlglot_fallback():
    # NOT VALID in the middle of the action list makes sqlglot give up; PostgreSQL's grammar reads it.
    sql = "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID, ALTER COLUMN b SET NOT NULL;"
    assert_flags(sql, RULE, count=1)


def test_table_created_earlier_is_info():
    sql = "CREATE TABLE notes (body text);\nALTER TABLE notes ALTER COLUMN body SET NOT NULL;"
    assert_flags(sql, RULE, severity="info")


def test_clean_after_a_valid_check_in_the_migration():
    validated = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
                 "ALTER TABLE accounts VALIDATE CONSTRAINT c;\n"
                 "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_clean(validated, RULE)
    added_valid = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK ((email IS NOT NULL) AND (length(email) > 3));\n"
                   "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_clean(added_valid, RULE)
    negated = "ALTER TABLE accounts ADD CHECK (NOT (email IS NULL));\nALTER TABLE accounts ALTER email SET NOT NULL;"
    assert_clean(negated, RULE)
    # PostgreSQL's grammar (sqlglot gives up on NOT VALID mid-list) deparses the expression for us.
    fallback = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID, ADD COLUMN x int;\n"
                "ALTER TABLE accounts VALIDATE CONSTRAINT c;\nALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_clean(fallback, RULE)


def test_clean_after_validating_a_check_added_by_an_earlier_migration():
    sql = ("ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_not_null;\n"
           "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_clean(sql, RULE)


def test_a_check_that_does_not_prove_it_is_no_help():
    not_validated = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
                     "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_flags(not_validated, RULE)
    other_column = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (name IS NOT NULL);\n"
                    "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_flags(other_column, RULE)
    either = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (email IS NOT NULL OR name IS NOT NULL);\n"
              "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_flags(either, RULE)
    other_table = ("ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);\n"
                   "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;")
    assert_flags(other_table, RULE)
    validated_after = ("ALTER TABLE accounts ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
                       "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"
                       "ALTER TABLE accounts VALIDATE CONSTRAINT c;")
    assert_flags(validated_after, RULE)


def test_clean_on_drop_not_null_and_other_actions():
    assert_clean("ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;", RULE)
    assert_clean("ALTER TABLE accounts ALTER COLUMN email SET DEFAULT '';", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE t ALTER COLUMN x SET NOT NULL;\nSELECT 'ALTER TABLE t ALTER COLUMN x SET NOT NULL';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE t ALTER COLUMN x SET NOT NULL'; END $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-domain-check-constraint"


def test_flags_alter_domain_add_check(snapshot):
    sql = "ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');"
    assert assert_flags(sql, RULE, severity="error") == snapshot


def test_flags_create_domain_with_check(snapshot):
    sql = "CREATE DOMAIN public.percent AS integer CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100);"
    assert assert_flags(sql, RULE, severity="error") == snapshot


def test_quoted_schema_qualified_mixed_case():
    assert "Billing.Amount" in assert_flags('alter domain "Billing"."Amount" Add Check (value > 0);', RULE, count=1)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER DOMAIN email ADD CHECK (VALUE <> '');\nCOMMIT;", RULE, count=1)


def test_hint_names_the_validate_lock_by_version():
    sql = "ALTER DOMAIN email ADD CHECK (VALUE <> '');"
    assert "still takes a SHARE lock" in assert_flags(sql, RULE, pg_version=17)
    assert "SHARE UPDATE EXCLUSIVE" in assert_flags(sql, RULE, pg_version=19)


def test_domain_created_earlier_in_the_file_is_info():
    sql = "CREATE DOMAIN email AS text;\nALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');"
    assert_flags(sql, RULE, severity="info")


def test_clean_on_not_valid_validate_and_other_domain_changes():
    assert_clean("ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT VALID;", RULE)
    assert_clean("ALTER DOMAIN email VALIDATE CONSTRAINT email_has_at;", RULE)
    assert_clean("ALTER DOMAIN email SET NOT NULL;", RULE)
    assert_clean("ALTER DOMAIN email SET DEFAULT '';", RULE)
    assert_clean("ALTER DOMAIN email DROP CONSTRAINT email_has_at;", RULE)
    assert_clean("CREATE DOMAIN email AS text NOT NULL DEFAULT '';", RULE)
    assert_clean("CREATE TABLE accounts (age int CHECK (age > 0));", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER DOMAIN email ADD CHECK (VALUE <> '');\nSELECT 'CREATE DOMAIN d AS int CHECK (VALUE > 0)';\n"
           "DO $$ BEGIN EXECUTE 'ALTER DOMAIN email ADD CHECK (VALUE <> '''')'; END $$;")
    assert_clean(sql, RULE)

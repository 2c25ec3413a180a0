import pytest

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "changing-column-type"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_type_change_to_a_type_no_safe_change_reaches(snapshot):
    assert assert_flags("ALTER TABLE accounts ALTER COLUMN id TYPE bigint;", RULE, severity="error") == snapshot


def test_flags_using_clause_whatever_the_types(snapshot):
    sql = "ALTER TABLE accounts ALTER COLUMN note SET DATA TYPE text USING trim(note);"
    assert assert_flags(sql, RULE) == snapshot


def test_timestamp_to_timestamptz_is_a_rewrite():
    assert_flags("ALTER TABLE accounts ALTER COLUMN created_at TYPE timestamp with time zone;", RULE)


@pytest.mark.parametrize(("old", "new"), [
    ("varchar(20)", "varchar(10)"), ("text", "varchar(50)"), ("varchar", "varchar(10)"), ("integer", "bigint"),
    ("numeric(10, 2)", "numeric(12, 3)"), ("numeric", "numeric(10, 2)"), ("timestamp", "timestamptz"),
    ("timestamptz(6)", "timestamptz(3)"), ("integer[]", "bigint[]"), ("inet", "cidr"), ("varchar(10)", "char(10)"),
])
def test_known_old_type_that_rewrites(old, new):
    sql = f"CREATE TABLE t (c {old});\nALTER TABLE t ALTER COLUMN c TYPE {new};"
    text = assert_flags(sql, RULE, severity="info")
    assert " from " in text


@pytest.mark.parametrize(("old", "new"), [
    ("varchar(10)", "varchar(20)"), ("varchar(10)", "text"), ("character varying(10)", "varchar"),
    ("text", "varchar"), ("text", "citext"), ("citext", "text"), ("numeric(10, 2)", "numeric(12, 2)"),
    ("numeric(10, 2)", "numeric"), ("numeric(10)", "numeric(12, 0)"), ("cidr", "inet"), ("int4", "integer"),
    ("timestamp(3)", "timestamp(6)"), ("timestamptz(3)", "timestamptz"),
])
def test_known_old_type_that_is_binary_coercible(old, new):
    assert_clean(f"CREATE TABLE t (c {old});\nALTER TABLE t ALTER COLUMN c TYPE {new};", RULE)


def test_old_type_from_an_earlier_add_column_or_type_change():
    sql = ("ALTER TABLE accounts ADD COLUMN code varchar(10);\n"
           "ALTER TABLE accounts ALTER COLUMN code TYPE varchar(20);\n"
           "ALTER TABLE accounts ALTER COLUMN code TYPE varchar(15);")
    text = assert_flags(sql, RULE, count=1, severity="error")
    assert "from varchar(20) to varchar(15)" in text


def test_unknown_old_type_to_a_type_a_safe_change_reaches_is_not_flagged():
    for new in ("text", "varchar", "varchar(255)", "character varying(100)", "numeric", "numeric(20, 4)", "inet",
                "citext"):
        assert_clean(f"ALTER TABLE accounts ALTER COLUMN note TYPE {new};", RULE)


def test_quoted_schema_qualified_if_exists_mixed_case():
    sql = 'alter table IF EXISTS only "Billing"."Invoices" Alter Column "Amount" Set Data Type BIGINT;'
    assert "Billing.Invoices.Amount" in assert_flags(sql, RULE, count=1)


def test_statement_sqlglot_rejects():
    assert_flags(f"ALTER TABLE accounts ALTER COLUMN n TYPE bigint{FALLBACK};", RULE, count=1)
    assert_flags(f"ALTER TABLE accounts ALTER COLUMN n TYPE text USING lower(n){FALLBACK};", RULE, count=1)
    assert_clean(f"ALTER TABLE accounts ALTER COLUMN n TYPE text{FALLBACK};", RULE)
    assert_clean(f"ALTER TABLE accounts ALTER COLUMN n TYPE text USING n::text{FALLBACK};", RULE)  # = no USING


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE accounts ALTER COLUMN id TYPE bigint;\nCOMMIT;", RULE, count=1)


def test_clean_on_other_column_changes():
    assert_clean("ALTER TABLE accounts ALTER COLUMN id SET DEFAULT 0, ALTER COLUMN id DROP NOT NULL;", RULE)
    assert_clean("ALTER TYPE address ALTER ATTRIBUTE street TYPE text;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE accounts ALTER COLUMN id TYPE bigint;\n"
           "SELECT 'ALTER TABLE accounts ALTER COLUMN id TYPE bigint';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE accounts ALTER COLUMN id TYPE bigint'; END $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-volatile-default"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_volatile_default(snapshot):
    sql = "ALTER TABLE accounts ADD COLUMN api_key uuid DEFAULT gen_random_uuid();"
    assert assert_flags(sql, RULE, severity="error") == snapshot


def test_flags_each_known_volatile_function():
    for default in ("random()", "floor(random() * 10)", "uuid_generate_v4()", "extensions.uuid_generate_v4()",
                    "clock_timestamp()", "nextval('accounts_seq'::regclass)", "timeofday()::timestamptz",
                    "md5(random()::text)", "now() - random() * interval '1 day'"):
        assert_flags(f"ALTER TABLE accounts ADD COLUMN x text DEFAULT {default};", RULE, count=1)


def test_quoted_schema_qualified_if_not_exists_mixed_case():
    sql = 'Alter Table "Billing".invoices Add Column If Not Exists "Token" uuid Not Null Default GEN_RANDOM_UUID();'
    text = assert_flags(sql, RULE, count=1)
    assert "Billing.invoices.Token" in text


def test_statement_sqlglot_rejects():
    assert_flags(f"ALTER TABLE accounts ADD COLUMN k uuid DEFAULT gen_random_uuid(){FALLBACK};", RULE, count=1)
    assert_clean(f"ALTER TABLE accounts ADD COLUMN k timestamptz DEFAULT now(){FALLBACK};", RULE)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE accounts ADD COLUMN k uuid DEFAULT gen_random_uuid();\nCOMMIT;", RULE)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE drafts (id bigint);\nALTER TABLE drafts ADD COLUMN k uuid DEFAULT gen_random_uuid();"
    assert_flags(sql, RULE, severity="info")


def test_before_postgresql_11_every_default_rewrites(snapshot):
    sql = "ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';"
    assert assert_flags(sql, RULE, pg_version=10) == snapshot
    assert_clean("ALTER TABLE accounts ADD COLUMN plan text DEFAULT NULL;", RULE, pg_version=10)
    assert_clean(sql, RULE, pg_version=11)


def test_clean_on_constant_and_stable_defaults():
    for default in ("0", "'free'", "now()", "CURRENT_TIMESTAMP", "'{}'::jsonb", "ARRAY[]::text[]", "true",
                    "'random()'", "NULL"):
        assert_clean(f"ALTER TABLE accounts ADD COLUMN x text DEFAULT {default};", RULE)


def test_clean_on_set_default_serial_and_create_table():
    assert_clean("ALTER TABLE accounts ALTER COLUMN api_key SET DEFAULT gen_random_uuid();", RULE)
    assert_clean("ALTER TABLE accounts ADD COLUMN seq bigserial;", RULE)
    assert_clean("CREATE TABLE accounts (id uuid PRIMARY KEY DEFAULT gen_random_uuid());", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE a ADD COLUMN k uuid DEFAULT gen_random_uuid();\n"
           "SELECT 'ALTER TABLE a ADD COLUMN k uuid DEFAULT gen_random_uuid()';\n"
           "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ ALTER TABLE a ADD COLUMN k uuid DEFAULT random() $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-add-generated-column"
FALLBACK = ", ALTER COLUMN id SET STATISTICS 100"  # forces the commands.AlterTable path


def test_flags_stored_generated_column(snapshot):
    sql = "ALTER TABLE orders ADD COLUMN total bigint GENERATED ALWAYS AS (quantity * unit_cents) STORED;"
    assert assert_flags(sql, RULE, severity="error") == snapshot


def test_quoted_schema_qualified_if_not_exists_mixed_case():
    sql = ('alter table "Shop"."Orders" add column if not exists "Total" bigint '
           'generated always as ("Qty" * 2) stored;')
    assert "Shop.Orders.Total" in assert_flags(sql, RULE, count=1)


def test_statement_sqlglot_rejects():
    assert_flags(f"ALTER TABLE orders ADD COLUMN t int GENERATED ALWAYS AS (a) STORED{FALLBACK};", RULE, count=1)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE orders ADD COLUMN t int GENERATED ALWAYS AS (a) STORED;\nCOMMIT;", RULE)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE orders (a int);\nALTER TABLE orders ADD COLUMN t int GENERATED ALWAYS AS (a * 2) STORED;"
    assert_flags(sql, RULE, severity="info")


def test_hint_mentions_virtual_from_postgresql_18():
    sql = "ALTER TABLE orders ADD COLUMN t int GENERATED ALWAYS AS (a) STORED;"
    assert "VIRTUAL" in assert_flags(sql, RULE, pg_version=18)
    assert "VIRTUAL" not in assert_flags(sql, RULE, pg_version=16)


def test_clean_on_virtual_identity_plain_and_create_table():
    assert_clean("ALTER TABLE orders ADD COLUMN t int GENERATED ALWAYS AS (a * 2) VIRTUAL;", RULE)
    assert_clean("ALTER TABLE orders ADD COLUMN t int GENERATED ALWAYS AS (a * 2);", RULE)
    assert_clean("ALTER TABLE orders ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;", RULE)
    assert_clean("ALTER TABLE orders ADD COLUMN t bigint;", RULE)
    assert_clean("CREATE TABLE orders (a int, t int GENERATED ALWAYS AS (a * 2) STORED);", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE o ADD COLUMN t int GENERATED ALWAYS AS (a) STORED;\n"
           "SELECT 'ALTER TABLE o ADD COLUMN t int GENERATED ALWAYS AS (a) STORED';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE o ADD COLUMN t int GENERATED ALWAYS AS (a) STORED'; END $$;")
    assert_clean(sql, RULE)

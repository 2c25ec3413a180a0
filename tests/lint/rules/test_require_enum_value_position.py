from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-enum-value-position"


def test_flags_add_value_without_position(snapshot):
    assert assert_flags("ALTER TYPE order_status ADD VALUE 'refunded';", RULE, severity="warning") == snapshot


def test_quoted_schema_qualified_if_not_exists_mixed_case():
    sql = """alter type "Shop"."OrderStatus" Add Value If Not Exists 'refunded';"""
    assert "enum Shop.OrderStatus" in assert_flags(sql, RULE, count=1)


def test_before_postgresql_12_in_a_transaction_it_fails(snapshot):
    sql = "BEGIN;\nALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';\nCOMMIT;"
    assert assert_flags(sql, RULE, pg_version=11, count=1) == snapshot
    assert_clean(sql, RULE, pg_version=12)


def test_before_postgresql_12_the_runner_transaction_counts():
    sql = "ALTER TYPE order_status ADD VALUE 'refunded' BEFORE 'shipped';"
    assert_flags(sql, RULE, pg_version=11)
    assert_clean(sql, RULE, pg_version=11, assume_in_transaction=False)


def test_enum_created_earlier_in_the_file_is_info_and_never_fails():
    sql = "CREATE TYPE mood AS ENUM ('sad', 'ok');\nALTER TYPE mood ADD VALUE 'happy';"
    text = assert_flags(sql, RULE, severity="info", pg_version=11)
    assert "transaction" not in text
    assert_clean("CREATE TYPE mood AS ENUM ('sad');\nALTER TYPE mood ADD VALUE 'ok' AFTER 'sad';", RULE, pg_version=11)


def test_clean_with_position_and_on_rename():
    assert_clean("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';", RULE)
    assert_clean("ALTER TYPE order_status ADD VALUE 'draft' BEFORE 'paid';", RULE)
    assert_clean("ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';", RULE)
    assert_clean("CREATE TYPE order_status AS ENUM ('new', 'paid');", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TYPE s ADD VALUE 'x';\nSELECT 'ALTER TYPE s ADD VALUE ''x''';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TYPE s ADD VALUE ''x'''; END $$;")
    assert_clean(sql, RULE)

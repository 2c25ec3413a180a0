from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-concurrent-index-creation"


def test_flags_create_index(snapshot):
    sql = "CREATE INDEX accounts_email_idx ON accounts (email);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_unique_if_not_exists_schema_qualified_quoted_mixed_case(snapshot):
    sql = 'create Unique Index If Not Exists "Email_Key" ON "Billing".Accounts USING btree (lower(email));'
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_unnamed_index_and_explicit_transaction():
    out = assert_flags("BEGIN;\nCREATE INDEX ON public.accounts (email) WHERE deleted_at IS NULL;\nCOMMIT;", RULE,
                       count=1)
    assert "an index on accounts" in out


def test_index_sqlglot_rejects_is_read_from_postgresql():
    # NULLS NOT DISTINCT: sqlglot gives up, PostgreSQL's grammar gives a CreateIndex.
    assert_flags("CREATE UNIQUE INDEX accounts_email_key ON accounts (email) NULLS NOT DISTINCT;", RULE, count=1)
    assert_clean("CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email) NULLS NOT DISTINCT;", RULE)


def test_table_or_materialized_view_created_earlier_is_info():
    assert_flags("CREATE TABLE notes (id bigint, body text);\nCREATE INDEX notes_body_idx ON notes (body);", RULE,
                 severity="info")
    assert_flags("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS n;\nCREATE INDEX totals_n_idx ON totals (n);", RULE,
                 severity="info")
    assert_flags("CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT 1 AS n;\nCREATE INDEX ON scratch (n);", RULE,
                 severity="info")


def test_index_before_the_create_table_is_an_error():
    assert_flags("CREATE INDEX notes_body_idx ON notes (body);\nCREATE TABLE IF NOT EXISTS notes (body text);", RULE,
                 severity="error")


def test_clean_on_concurrently():
    assert_clean("CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- CREATE INDEX a ON accounts (email);\nSELECT 'CREATE INDEX a ON accounts (email)';\n"
           "DO $$ BEGIN EXECUTE 'CREATE INDEX a ON accounts (email)'; END $$;\n"
           "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $body$ SELECT 1 $body$;")
    assert_clean(sql, RULE)

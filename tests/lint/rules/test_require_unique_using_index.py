from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-unique-using-index"


def test_flags_add_unique(snapshot):
    sql = "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_primary_key_and_column_constraints(snapshot):
    sql = ('alter table if exists "Billing".Accounts Add Primary Key (id),\n'
           "    ADD COLUMN code text UNIQUE;")
    assert assert_flags(sql, RULE, count=2) == snapshot


def test_sqlglot_fallback_and_explicit_transaction():
    # NOT VALID in the middle makes sqlglot give up: PostgreSQL's grammar gives the actions.
    sql = ("BEGIN;\nALTER TABLE accounts ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES b NOT VALID, "
           "ADD CONSTRAINT accounts_code_key UNIQUE (code);\nCOMMIT;")
    assert_flags(sql, RULE, count=1)


def test_table_created_earlier_is_info():
    sql = "CREATE TABLE notes (id bigint);\nALTER TABLE notes ADD PRIMARY KEY (id);"
    assert_flags(sql, RULE, severity="info")


def test_clean_using_index():
    assert_clean("ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_key;", RULE)
    assert_clean("ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;", RULE)
    assert_clean("CREATE TABLE notes (id bigint PRIMARY KEY, code text UNIQUE);", RULE)
    assert_clean("ALTER TABLE accounts ADD CONSTRAINT c CHECK (id > 0) NOT VALID;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE t ADD UNIQUE (x);\nSELECT 'ALTER TABLE t ADD UNIQUE (x)';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD PRIMARY KEY (x)'; END $$;")
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-cluster"


def test_flags_cluster(snapshot):
    assert assert_flags("CLUSTER accounts USING accounts_created_at_idx;", RULE, severity="error") == snapshot


def test_flags_schema_qualified_quoted_mixed_case_and_bare():
    assert "Billing.Invoices" in assert_flags('Cluster Verbose "Billing"."Invoices";', RULE, count=1)
    assert "every previously clustered table" in assert_flags("cluster;", RULE)


def test_explicit_transaction():
    assert_flags("BEGIN;\nCLUSTER accounts;\nCOMMIT;", RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    assert_flags("CREATE TABLE scratch (id int PRIMARY KEY);\nCLUSTER scratch USING scratch_pkey;", RULE,
                 severity="info")


def test_clean_on_cluster_on_and_without_cluster():
    assert_clean("ALTER TABLE accounts CLUSTER ON accounts_created_at_idx;", RULE)
    assert_clean("ALTER TABLE accounts SET WITHOUT CLUSTER;", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = "-- CLUSTER accounts;\nSELECT 'CLUSTER accounts';\nDO $$ BEGIN EXECUTE 'CLUSTER accounts'; END $$;"
    assert_clean(sql, RULE)

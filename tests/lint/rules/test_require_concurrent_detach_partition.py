from tests.lint.lintkit import assert_clean, assert_flags

RULE = "require-concurrent-detach-partition"


def test_flags_detach_without_concurrently(snapshot):
    sql = "ALTER TABLE measurements DETACH PARTITION measurements_2023;"
    assert assert_flags(sql, RULE, severity="error") == snapshot


def test_before_postgresql_14_hint_is_a_maintenance_window(snapshot):
    sql = "ALTER TABLE measurements DETACH PARTITION measurements_2023;"
    assert assert_flags(sql, RULE, pg_version=13) == snapshot


def test_quoted_schema_qualified_if_exists_mixed_case():
    sql = 'alter table if exists "Metrics"."Measurements" Detach Partition "Metrics".m_2023;'
    assert "Metrics.m_2023 from Metrics.Measurements" in assert_flags(sql, RULE, count=1)


def test_explicit_transaction():
    assert_flags("BEGIN;\nALTER TABLE m DETACH PARTITION m_2023;\nCOMMIT;", RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = ("CREATE TABLE m (at date) PARTITION BY RANGE (at);\n"
           "CREATE TABLE m_2023 PARTITION OF m FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');\n"
           "ALTER TABLE m DETACH PARTITION m_2023;")
    assert_flags(sql, RULE, severity="info")


def test_clean_on_concurrently_finalize_and_attach():
    assert_clean("ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY;", RULE)
    assert_clean("ALTER TABLE m DETACH PARTITION m_2023 FINALIZE;", RULE)
    assert_clean("ALTER TABLE m ATTACH PARTITION m_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');", RULE)


def test_text_in_comments_strings_and_bodies_is_not_a_statement():
    sql = ("-- ALTER TABLE m DETACH PARTITION m_2023;\nSELECT 'ALTER TABLE m DETACH PARTITION m_2023';\n"
           "DO $$ BEGIN EXECUTE 'ALTER TABLE m DETACH PARTITION m_2023'; END $$;")
    assert_clean(sql, RULE)

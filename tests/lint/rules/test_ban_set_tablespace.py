from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-set-tablespace"


def test_flags_table_index_and_materialized_view():
    out = assert_flags('ALTER TABLE "tests_model" SET TABLESPACE "new_tablespace";', RULE, count=1, severity="error")
    assert "table tests_model" in out and "ACCESS EXCLUSIVE" in out
    assert_flags("ALTER INDEX events_idx SET TABLESPACE archive;", RULE, count=1)
    assert_flags("ALTER MATERIALIZED VIEW totals SET TABLESPACE archive;", RULE, count=1)
    assert_flags("ALTER TABLE IF EXISTS app.events SET TABLESPACE archive, ADD COLUMN x int;", RULE, count=1)


def test_flags_moving_a_whole_tablespace():
    assert_flags("ALTER TABLE ALL IN TABLESPACE fast SET TABLESPACE archive;", RULE, count=1)


def test_new_relations_are_info():
    sql = "CREATE TABLE t (id int);\nALTER TABLE t SET TABLESPACE archive;"
    assert_flags(sql, RULE, count=1, severity="info")
    sql = "CREATE INDEX CONCURRENTLY i ON t (id);\nALTER INDEX i SET TABLESPACE archive;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_clean_on_new_relations_in_a_tablespace_and_settings():
    sql = ("CREATE TABLE t (id int) TABLESPACE archive;\nCREATE INDEX CONCURRENTLY i ON t (id) TABLESPACE archive;\n"
           "SET default_tablespace = archive;\nALTER TABLE t SET (fillfactor = 90);")
    assert_clean(sql, RULE)

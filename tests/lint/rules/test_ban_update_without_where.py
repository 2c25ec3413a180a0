from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-update-without-where"


def test_flags_update_without_where(snapshot):
    assert assert_flags("UPDATE accounts SET plan = 'free';", RULE, count=1, severity="error") == snapshot


def test_where_only_in_a_subquery_is_still_without_where(snapshot):
    sql = "UPDATE accounts SET plan = (SELECT p.name FROM plans p WHERE p.id = 1);"
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_constant_true_where_and_from_join():
    sql = "UPDATE a SET x = 1 WHERE TRUE;\nUPDATE a SET x = b.x FROM b;\nUPDATE a SET x = 1 WHERE 'a' = 'a';"
    assert_flags(sql, RULE, count=3)


def test_update_inside_with_clause():
    assert_flags("WITH u AS (UPDATE a SET x = 1 RETURNING id) SELECT * FROM u;", RULE, count=1)


def test_schema_qualified_quoted_mixed_case_in_transaction():
    assert_flags('BEGIN;\nUpdate Only "App".accounts AS t Set plan = NULL;\nCOMMIT;', RULE, count=1, severity="error")


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE settings (k text, v text);\nINSERT INTO settings VALUES ('a', 'b');\nUPDATE settings SET v = 'c';"
    assert_flags(sql, RULE, count=1, severity="info")


def test_allow_destructive_demotes_to_warning():
    assert_flags("UPDATE accounts SET plan = 'free';", RULE, severity="warning", allow_destructive=True)


def test_clean_with_a_real_where():
    assert_clean("UPDATE accounts SET plan = 'free' WHERE plan IS NULL;", RULE)
    assert_clean("UPDATE a SET x = b.x FROM b WHERE a.id = b.id;\nUPDATE a SET x = 1 WHERE 1 = 1 AND id = 2;", RULE)
    assert_clean("-- UPDATE a SET x = 1;\nSELECT 'UPDATE a SET x = 1';", RULE)

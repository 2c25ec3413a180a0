from tests.lintkit import assert_clean, assert_flags

RULE = "ban-truncate"


def test_flags_truncate(snapshot):
    assert assert_flags("TRUNCATE sessions;", RULE, count=1, severity="error") == snapshot


def test_cascade_is_named_in_the_message(snapshot):
    assert assert_flags('TRUNCATE TABLE ONLY app."Sessions", tokens RESTART IDENTITY CASCADE;', RULE,
                        count=2) == snapshot


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE import_rows (id bigint);\nINSERT INTO import_rows VALUES (1);\nTRUNCATE import_rows;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_mixed_case_in_explicit_transaction():
    assert_flags("BEGIN;\ntruncate Table Sessions;\nCOMMIT;", RULE, count=1, severity="error")


def test_allow_destructive_demotes_to_warning():
    assert_flags("TRUNCATE sessions;", RULE, severity="warning", allow_destructive=True)


def test_clean_on_delete_and_text():
    assert_clean("DELETE FROM sessions WHERE expires_at < now();", RULE)
    assert_clean("-- TRUNCATE sessions;\nSELECT 'TRUNCATE sessions', trunc(1.5);", RULE)

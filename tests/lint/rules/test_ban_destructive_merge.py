from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-destructive-merge"


def test_flags_merge_that_deletes_matched_rows(snapshot):
    sql = "MERGE INTO victim v\nUSING victim s ON v.id = s.id\nWHEN MATCHED THEN DELETE;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_update_and_delete_with_an_always_true_join(snapshot):
    sql = ('MERGE INTO app."Accounts" a USING (SELECT 1 AS id) s ON true\n'
           "WHEN MATCHED AND a.plan = 'pro' THEN UPDATE SET plan = 'free'\nWHEN MATCHED THEN DELETE;")
    assert assert_flags(sql, RULE, count=1) == snapshot


def test_flags_not_matched_by_source_and_mixed_case_in_a_transaction():
    sql = "BEGIN;\nmerge into victim v using src s on v.id = s.id when not matched by source then delete;\nCOMMIT;"
    assert_flags(sql, RULE, count=1, severity="error")


def test_flags_merge_in_a_do_block_and_demotes_with_allow_destructive():
    sql = "DO $$ BEGIN EXECUTE 'MERGE INTO victim v USING victim s ON v.id = s.id WHEN MATCHED THEN DELETE'; END $$;"
    assert_flags(sql, RULE, count=1, severity="warning", allow_destructive=True)


def test_table_created_earlier_in_the_file_is_info():
    sql = ("CREATE TABLE staging (id bigint);\n"
           "MERGE INTO staging t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET id = s.id;")
    assert_flags(sql, RULE, count=1, severity="info")


def test_clean_on_insert_only_and_do_nothing():
    assert_clean("MERGE INTO victim v USING src s ON v.id = s.id\n"
                 "WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)\nWHEN MATCHED THEN DO NOTHING;", RULE)
    assert_clean("SELECT 'MERGE INTO victim USING x ON true WHEN MATCHED THEN DELETE';", RULE)

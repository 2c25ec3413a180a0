from tests.lint.lintkit import assert_clean, assert_flags

RULE = "renaming-column"


def test_flags_rename_column(snapshot):
    assert assert_flags("ALTER TABLE accounts RENAME COLUMN name TO full_name;", RULE, count=1, severity="error") == snapshot


def test_rename_without_the_column_keyword(snapshot):
    # sqlglot misreads this as a table rename; it is a column rename.
    assert assert_flags('ALTER TABLE IF EXISTS public.accounts RENAME "Name" TO full_name;', RULE, count=1) == snapshot


def test_mixed_case_only_in_explicit_transaction():
    assert_flags("BEGIN;\nalter TABLE ONLY Accounts Rename Column Note TO notes;\nCOMMIT;", RULE, count=1)


def test_table_created_earlier_in_the_file_is_info():
    sql = "CREATE TABLE drafts (id bigint, body text);\nALTER TABLE drafts RENAME COLUMN body TO content;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_column_added_earlier_in_the_file_is_info():
    sql = "ALTER TABLE accounts ADD COLUMN nick text;\nALTER TABLE accounts RENAME COLUMN nick TO nickname;"
    assert_flags(sql, RULE, count=1, severity="info")


def test_allow_destructive_demotes_to_warning():
    assert_flags("ALTER TABLE a RENAME COLUMN x TO y;", RULE, severity="warning", allow_destructive=True)


def test_clean_on_other_renames_and_text():
    assert_clean("ALTER TABLE a RENAME TO b;\nALTER TABLE a RENAME CONSTRAINT c TO d;\nALTER INDEX i RENAME TO j;", RULE)
    assert_clean("-- ALTER TABLE a RENAME COLUMN x TO y;\nSELECT 'ALTER TABLE a RENAME COLUMN x TO y';", RULE)

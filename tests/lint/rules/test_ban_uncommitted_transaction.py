from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-uncommitted-transaction"


def test_flags_begin_without_commit(snapshot):
    sql = "BEGIN;\nALTER TABLE accounts ADD COLUMN note text;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_start_transaction_and_mixed_case():
    assert_flags("start transaction;\nCREATE TABLE t (a int);", RULE)
    assert_flags("Begin Work;\nCREATE TABLE t (a int);", RULE)


def test_flags_the_transaction_left_open_after_an_earlier_one():
    sql = "BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (x int);"
    out = assert_flags(sql, RULE, count=1)
    assert ":4:1:" in out


def test_flags_commit_and_chain_which_opens_a_new_transaction():
    assert_flags("BEGIN;\nCREATE TABLE a (x int);\nCOMMIT AND CHAIN;", RULE)


def test_flags_in_files_that_are_not_wrapped_too():
    assert_flags("BEGIN;\nCREATE TABLE a (x int);", RULE, assume_in_transaction=False)


def test_clean_when_committed_or_rolled_back():
    assert_clean("BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;", RULE)
    assert_clean("BEGIN;\nCREATE TABLE a (x int);\nEND;", RULE)
    assert_clean("BEGIN;\nCREATE TABLE a (x int);\nROLLBACK;", RULE)
    assert_clean("BEGIN;\nCREATE TABLE a (x int);\nABORT;", RULE)
    assert_clean("BEGIN;\nCREATE TABLE a (x int);\nPREPARE TRANSACTION 'm1';", RULE)
    assert_clean("BEGIN;\nBEGIN;\nCREATE TABLE a (x int);\nCOMMIT;", RULE)


def test_clean_on_savepoints_and_rollback_to():
    sql = "BEGIN;\nSAVEPOINT s;\nCREATE TABLE a (x int);\nROLLBACK TO SAVEPOINT s;\nCOMMIT;"
    assert_clean(sql, RULE)


def test_transaction_control_in_bodies_comments_and_strings_is_not_a_statement():
    sql = "-- BEGIN;\nSELECT 'BEGIN';\nDO $$ BEGIN PERFORM 1; END $$;\n" \
          "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;"
    assert_clean(sql, RULE)

from tests.lint.lintkit import assert_clean, assert_flags

RULE = "transaction-nesting"


def test_flags_begin_in_a_wrapped_file(snapshot):
    # Not a whole-file wrapper: the COMMIT ends migguard's transaction before the last statement.
    sql = "BEGIN;\nALTER TABLE accounts ADD COLUMN note text;\nCOMMIT;\nALTER TABLE accounts ADD COLUMN label text;"
    assert assert_flags(sql, RULE, count=1, severity="error") == snapshot


def test_flags_start_transaction_mixed_case():
    assert_flags("Start Transaction Isolation Level Serializable;\nALTER TABLE a ADD COLUMN b int;\ncommit;", RULE,
                 count=1)


def test_flags_stray_commit_and_rollback_in_a_wrapped_file(snapshot):
    sql = "ALTER TABLE a ADD COLUMN b int;\nCOMMIT;\nALTER TABLE a ADD COLUMN c int;"
    assert assert_flags(sql, RULE, count=1) == snapshot
    assert_flags("ALTER TABLE a ADD COLUMN b int;\nROLLBACK;", RULE, count=1)
    assert_flags("ALTER TABLE a ADD COLUMN b int;\nABORT;", RULE, count=1)
    assert_flags("ALTER TABLE a ADD COLUMN b int;\nEND;", RULE, count=1)


def test_flags_nested_begin_even_when_not_wrapped(snapshot):
    sql = "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nBEGIN;\nALTER TABLE a ADD COLUMN c int;\nCOMMIT;\nCOMMIT;"
    assert assert_flags(sql, RULE, count=1, assume_in_transaction=False) == snapshot
    sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nBEGIN;\nSTART TRANSACTION;\nCOMMIT;"
    assert_flags(sql, RULE, count=1)


def test_only_the_first_of_several_problems_after_migguards_transaction_ended():
    # The first BEGIN is the finding; after its COMMIT migguard's transaction is over, so the second
    # BEGIN … COMMIT pair is an ordinary transaction.
    sql = "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;\nBEGIN;\nALTER TABLE a ADD COLUMN c int;\nCOMMIT;"
    assert_flags(sql, RULE, count=1)


def test_clean_when_the_runner_does_not_wrap():
    sql = "BEGIN;\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;"
    assert_clean(sql, RULE, assume_in_transaction=False)
    assert_clean("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nBEGIN;\nALTER TABLE a ADD b int;\nCOMMIT;", RULE)
    assert_clean("COMMIT;", RULE, assume_in_transaction=False)


def test_clean_on_savepoints_and_plain_files():
    assert_clean("SAVEPOINT s;\nALTER TABLE a ADD COLUMN b int;\nROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;", RULE)
    assert_clean("ALTER TABLE a ADD COLUMN b int;", RULE)


def test_transaction_control_in_bodies_comments_and_strings_is_not_a_statement():
    sql = "-- BEGIN;\nSELECT 'COMMIT';\nCREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\n" \
          "DO $$ BEGIN ROLLBACK; END $$;"
    assert_clean(sql, RULE)

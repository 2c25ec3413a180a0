import re

import pytest

from migguard.core.durations import duration_ms
from migguard.core.session import timeout_settings
from tests.lint.lintkit import assert_clean, assert_flags

RULE = "ban-unbounded-timeout"
ALTER = "ALTER TABLE accounts ADD COLUMN note text;"


def test_flags_switching_the_lock_timeout_off(snapshot):
    assert assert_flags(f"SET lock_timeout = 0;\n{ALTER}", RULE, count=1, severity="error") == snapshot


def test_flags_a_value_above_the_configured_ceiling(snapshot):
    sql = f"BEGIN;\nset LOCAL Statement_Timeout TO '2h';\n{ALTER}\nCOMMIT;"
    assert assert_flags(sql, RULE, count=1) == snapshot


@pytest.mark.parametrize("statement", [
    "SET lock_timeout TO '0s';", "SET lock_timeout = '0';", "SET lock_timeout TO DEFAULT;", "RESET lock_timeout;",
    "SET SESSION lock_timeout = '500us';",  # rounds to 0 ms: off
    "SELECT set_config('lock_timeout', '0', false);", "SET lock_timeout = 3000;", "SET lock_timeout = '2.5s';",
    "SET lock_timeout = '1min';", "SET lock_timeout = '1e4';", "SET lock_timeout = 0x1000;",
    "SELECT set_config('lock_timeout', current_setting('app.timeout'), false);",  # cannot be read: flagged
    "SET lock_timeout = '2 weeks';",  # PostgreSQL refuses it; never silently accepted
])
def test_lock_timeout_off_above_or_unreadable(statement):
    assert_flags(f"{statement}\n{ALTER}", RULE, count=1)


def test_reset_all_switches_both_off():
    assert_flags("RESET ALL;", RULE, count=2)


@pytest.mark.parametrize("statement", [
    "SET lock_timeout = '2s';", "SET lock_timeout TO 2000;", "SET LOCAL lock_timeout = '1.5s';",
    "SET lock_timeout = '1999999us';", "SELECT set_config('lock_timeout', '500ms', true);",
    "SET statement_timeout = '15min';", "SET statement_timeout = '900s';", "SET lock_timeout FROM CURRENT;",
    "SET search_path = app, public;", "SET work_mem = 0;",
])
def test_clean_within_the_ceiling(statement):
    assert_clean(f"{statement}\n{ALTER}", RULE)


def test_the_ceiling_comes_from_the_settings():
    sql = "SET statement_timeout = '1h';\nCREATE INDEX CONCURRENTLY a_idx ON accounts (note);"
    assert_flags(sql, RULE)
    assert_clean(sql, RULE, max_statement_timeout="2h")
    assert_flags("SET lock_timeout = '2s';", RULE, max_lock_timeout="500ms")
    assert_flags("SET lock_timeout = 0;", RULE, max_lock_timeout="1d")  # off is never within a ceiling


def test_quoted_names_comments_strings_and_new_tables_make_no_difference():
    assert_clean("CREATE TABLE \"Reset\" (lock_timeout int);\nINSERT INTO \"Reset\" VALUES (0);\n"
                 "-- SET lock_timeout = 0;\nSELECT 'SET statement_timeout = 0';", RULE)
    assert_flags("CREATE TABLE billing.accounts (id int);\nSET lock_timeout = 0;\n"
                 "ALTER TABLE IF EXISTS billing.accounts ADD COLUMN note text;", RULE, count=1)


def test_durations_follow_postgresql():
    assert [duration_ms(v) for v in ("2s", "2000", "1.5s", "1500us", "010", "0x10", " 3 s ", "15min", "1d")] == [
        2000, 2000, 1500, 2, 8, 16, 3000, 900_000, 86_400_000]
    assert [duration_ms(v) for v in ("1S", "-1", "abc", "2 weeks", "9999999999")] == [None] * 5
    assert [(s.name, s.ms) for s in timeout_settings("SELECT set_config('statement_timeout', '5min', false)")] == [
        ("statement_timeout", 300_000)]


@pytest.mark.parametrize(("line", "says"), [
    ('max_lock_timeout = "0"', "not a positive duration"), ('max_statement_timeout = "soon"', "not a positive duration"),
    ('max_lock_timeout = "1s"', "below lock_timeout (2s)"),
])
def test_the_ceiling_keys_are_checked_when_the_config_loads(tmp_path, line, says):
    from migguard.core.config import load_config
    from migguard.core.errors import ConfigError

    (tmp_path / "migguard.toml").write_text(f"[tool.migguard]\n{line}\n")
    with pytest.raises(ConfigError, match=f"invalid value for '{line.split()[0]}': .*{re.escape(says)}"):
        load_config(start=tmp_path)
    (tmp_path / "migguard.toml").write_text('[tool.migguard]\nmax_lock_timeout = "5s"\n')
    config = load_config(start=tmp_path)
    assert (config.lock_timeout_ceiling, config.statement_timeout_ceiling) == ("5s", "15min")

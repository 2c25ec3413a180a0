"""Destruction of data the schema diff cannot see needs --allow-destructive on the live path
(issue 10, item 4), through the real CLI on a real PostgreSQL; and the live lint gate neither trusts
the lint cache nor honours an in-file ignore of a destructive rule.

The CLI scenario's production is a fresh database on the session cluster (the shadow is the same
cluster), with a sentinel password in its URL that must appear nowhere.
"""

from pathlib import Path

import psycopg
import pytest

from migguard.apply.gates import check_lint
from migguard.core.audit import verify
from migguard.core.config import load_config
from migguard.core.errors import GateRefused
from migguard.core.sources import discover
from migguard.lint.context import LintSettings
from migguard.lint.engine import LintTarget, RulePolicy, lint_file, lint_live
from tests.apply.livekit import (
    SENTINEL,
    audit_entries,
    make_project,
    migguard,
    with_password,
    write,
)

CONFIG = '[tool.migguard]\nmigrations = "db/migrations"\nlock_timeout = "300ms"\nmax_lock_timeout = "2s"\nlock_retries = 3\npg_version = 15\n'
VICTIM = "SET lock_timeout = '2s';\nCREATE TABLE victim (id bigint PRIMARY KEY, note text);\n"
IGNORED_TRUNCATE = ("SET lock_timeout = '2s';\n"
                    "-- migguard:ignore ban-truncate -- demo data, reloaded by the seed job\n"
                    "TRUNCATE victim;\n")
DO_TRUNCATE = "SET lock_timeout = '2s';\nDO $$ BEGIN EXECUTE 'TRUNC' || 'ATE victim'; END $$;\n"


# --- the lint engine: live mode ----------------------------------------------------------------------


def _lint(text: str, **policy: object):
    return lint_file("0002.sql", text, LintSettings(), RulePolicy.build(**policy))


def test_an_ignore_silences_a_destructive_rule_for_lint_but_not_live():
    plain = _lint(IGNORED_TRUNCATE)
    assert [f.rule for f in plain.findings] == [] and [f.rule for f in plain.ignored_destructive] == ["ban-truncate"]
    live = _lint(IGNORED_TRUNCATE, live=True)
    assert [(f.rule, f.severity.value) for f in live.findings] == [("ban-truncate", "error")]
    assert "demo data, reloaded by the seed job" in live.findings[0].message
    assert "--allow-destructive" in live.findings[0].message
    # The ignore and the flag together accept it (listed for the audit, not a warning that --strict refuses).
    accepted = _lint(IGNORED_TRUNCATE, live=True, allow_destructive=True)
    assert accepted.findings == [] and [f.rule for f in accepted.ignored_destructive] == ["ban-truncate"]


def test_live_mode_ignores_a_config_entry_that_turns_a_destructive_rule_off_or_down():
    def truncates(result):
        return [(f.rule, f.severity.value) for f in result.findings if f.rule == "ban-truncate"]

    assert truncates(_lint("TRUNCATE victim;", config_rules={"ban-truncate": "off"})) == []
    for setting in ("off", "info", "warning"):
        live = _lint("TRUNCATE victim;", config_rules={"ban-truncate": setting}, live=True)
        assert truncates(live) == [("ban-truncate", "error")]


def test_an_ignore_of_a_non_destructive_rule_still_holds_live():
    sql = "-- migguard:ignore prefer-text-field -- matches the legacy API\nCREATE TABLE t (id bigint, v varchar(20));"
    assert not [f for f in _lint(sql, live=True).findings if f.rule == "prefer-text-field"]


def test_the_live_gate_does_not_read_the_lint_cache(tmp_path):
    """A forged cache entry under the exact key lint would look up ("no findings") fools plain lint,
    not the live gate."""
    from migguard.lint.engine import LintCache, lint_targets

    (tmp_path / "migguard.toml").write_text(CONFIG)
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0001_victim.sql").write_text("SET lock_timeout = '2s';\nTRUNCATE victim;\n")
    config = load_config(str(tmp_path / "migguard.toml"))
    pending = discover(migrations, "auto")
    settings = LintSettings(pg_version=config.pg_version, tenant_column=config.tenant_column,
                            tenant_setting=config.tenant_setting, assume_in_transaction=config.assume_in_transaction)
    targets = [LintTarget(m.up.as_posix(), m.up_sql()) for m in pending]
    cache = LintCache(Path(config.root) / ".migguard" / "cache")
    for policy in (RulePolicy.build(config.rules, live=True), RulePolicy.build(config.rules)):
        cache.put(cache.key(targets[0], settings, policy), [])
    cache.save()
    fooled = lint_targets(targets, settings, RulePolicy.build(config.rules), LintCache(cache.directory))
    assert fooled == []
    live = lint_live(targets, settings, RulePolicy.build(config.rules, live=True))
    assert [f.rule for f in live.findings] == ["ban-truncate"]
    with pytest.raises(GateRefused, match="ban-truncate in 0001_victim.sql"):
        check_lint(pending, config, allow_destructive=False, strict=False)
    assert check_lint(pending, config, allow_destructive=True, strict=False) == []


# --- through the CLI, on production ------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url(), {"0001_victim.sql": VICTIM})


def _state(url: str) -> tuple[int, list[str]]:
    """victim's row count, and the versions production's history records."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM victim").fetchone()[0]
        versions = [r[0] for r in conn.execute("SELECT version FROM migguard.schema_migrations ORDER BY version")]
    return rows, versions


@pytest.mark.pg
@pytest.mark.e2e
def test_hidden_and_ignored_truncates_need_allow_destructive_on_the_live_path(project, pg):
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stderr
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO victim SELECT g, 'row ' || g FROM generate_series(1, 50) g")

    # 1. A TRUNCATE silenced by an in-file ignore: lint honours the ignore, the live path does not.
    write(project, "0002_ignored_truncate.sql", IGNORED_TRUNCATE)
    linted = migguard(project, "lint")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1, refused.stderr
    assert "ban-truncate in 0002_ignored_truncate.sql" in refused.stderr
    assert "in-file ignore" in refused.stderr and "--allow-destructive" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _state(pg) == (50, ["0001"])

    # 2. Plus a TRUNCATE assembled from constant strings in a DO block.
    write(project, "0003_do_truncate.sql", DO_TRUNCATE)
    hidden = migguard(project, "apply", "--confirm-live")
    assert hidden.returncode == 1, hidden.stderr
    assert "ban-truncate in 0003_do_truncate.sql" in hidden.stderr
    assert _state(pg) == (50, ["0001"])
    refusals = [e for e in audit_entries(project) if e["result"] == "refused"]
    assert len(refusals) == 2 and all("ban-truncate" in e["details"]["reason"] for e in refusals)

    # 3. The person's explicit yes: it runs, and the audit records it.
    allowed = migguard(project, "apply", "--confirm-live", "--allow-destructive")
    assert allowed.returncode == 0, allowed.stderr
    assert _state(pg) == (0, ["0001", "0002", "0003"])
    applied = [e for e in audit_entries(project) if e["result"] == "applied"]
    assert applied[-1]["migrations"] == ["0002", "0003"]
    assert verify(project.root / ".migguard" / "audit.jsonl").ok

    outputs = [r.stdout + r.stderr for r in (first, linted, refused, hidden, allowed)]
    files = [p.read_text(errors="replace") for p in project.root.rglob("*") if p.is_file() and p.suffix != ".dump"]
    assert not any(SENTINEL in text for text in outputs + files)

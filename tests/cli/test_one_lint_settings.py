"""lint, plan and apply's gate build their lint settings with one constructor
(LintSettings.from_config), so a rule that depends on the project's write paths concludes the same
in all three. Before, plan and apply's gate dropped the write paths: missing-template-header
(turned into an error by the config) refused `migguard lint` while `apply --confirm-live` wrote the
same file to production.
"""

from __future__ import annotations

import json

import pytest

from migguard.apply.gates import check_lint
from migguard.core.config import load_config
from migguard.core.errors import GateRefused
from migguard.core.sources import discover
from migguard.lint.context import LintSettings
from migguard.lint.engine import LintOptions, run_lint
from tests.apply.livekit import applied_versions, assert_clean, make_project, migguard, scalar, with_password, write

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "2s"
pg_version = 15

[tool.migguard.rules]
missing-template-header = "error"
"""
ACCOUNTS = """SET lock_timeout = '2s';
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
"""
HEADER = "-- migguard:template feature\n"


def test_the_settings_carry_the_write_paths_only_for_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert LintSettings.from_config(load_config()).write_paths == ()  # no config file: no project
    (tmp_path / "migguard.toml").write_text(CONFIG)
    settings = LintSettings.from_config(load_config(), pg_version=16)
    assert settings.write_paths == ("db/migrations", "db/seeds") and settings.pg_version == 16


def test_lint_and_the_apply_gate_agree_on_a_write_path_rule(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migguard.toml").write_text(CONFIG)
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "migrations" / "0001_accounts.sql").write_text(ACCOUNTS)
    config = load_config()
    pending = discover(tmp_path / "db" / "migrations", "auto")

    linted = run_lint(LintOptions(use_cache=False), config)
    assert [(f.rule, f.severity.value) for f in linted.findings] == [("missing-template-header", "error")]
    with pytest.raises(GateRefused, match="missing-template-header in 0001_accounts.sql"):
        check_lint(pending, config, allow_destructive=False, strict=False)

    (tmp_path / "db" / "migrations" / "0001_accounts.sql").write_text(HEADER + ACCOUNTS)
    pending = discover(tmp_path / "db" / "migrations", "auto")
    assert run_lint(LintOptions(use_cache=False), config).findings == ()
    assert check_lint(pending, config, allow_destructive=False, strict=False) == []


@pytest.mark.pg
@pytest.mark.e2e
def test_apply_refuses_what_lint_refuses_and_production_is_untouched(tmp_path, pg, pg_cluster):
    project = make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url(), {"0001_accounts.sql": ACCOUNTS})
    lint = migguard(project, "lint", "--no-cache", "--format", "json")
    assert lint.returncode == 1
    assert [f["rule"] for f in json.loads(lint.stdout)["findings"]] == ["missing-template-header"]
    plan = migguard(project, "plan", "--format", "json")
    assert plan.returncode == 1 and "missing-template-header" in {f["rule"] for f in json.loads(plan.stdout)["findings"]}
    refused = migguard(project, "apply", "--confirm-live")
    assert refused.returncode == 1, refused.stderr
    assert "missing-template-header" in refused.stderr
    assert applied_versions(pg) == [] and scalar(pg, "SELECT to_regclass('public.accounts')") is None

    write(project, "0001_accounts.sql", HEADER + ACCOUNTS)  # the fix lint asks for: apply follows
    assert migguard(project, "lint", "--no-cache").returncode == 0
    applied = migguard(project, "apply", "--confirm-live")
    assert applied.returncode == 0, applied.stderr
    assert applied_versions(pg) == ["0001"] and scalar(pg, "SELECT to_regclass('public.accounts')::text") == "accounts"
    assert_clean(project, lint, plan, refused, applied)

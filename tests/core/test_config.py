"""Configuration: defaults, where the file is found, what is refused, and what it changes in lint."""

from __future__ import annotations

from pathlib import Path

import pytest

from migguard.core.config import Config, find_config_file, load_config, read_env_file, secret
from migguard.core.errors import ConfigError
from migguard.core.findings import Severity
from migguard.lint.engine import LintOptions, RulePolicy, run_lint

DROP = "ALTER TABLE accounts DROP COLUMN legacy;\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project directory that is the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PG_PROD_URL", raising=False)
    monkeypatch.delenv("PG_SHADOW_URL", raising=False)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and discovery ----------------------------------------------------------------------


def test_defaults_when_no_file(project):
    config = load_config(start=project)
    assert config.source is None
    assert Path(config.root) == project
    assert config.migrations == "db/migrations"
    assert config.layout == "auto"
    assert config.pg_version == 15
    assert config.tenant_column == "tenant_id"
    assert config.tenant_setting == "app.tenant_id"
    assert config.app_roles == ("app_user",)
    assert config.env_file == "vault/.env"
    assert config.lock_timeout == "2s" and config.statement_timeout == "15min"
    assert config.lock_retries == 5
    assert config.history_table == "migguard.schema_migrations"
    assert config.assume_in_transaction is True
    assert config.rules == {} and config.rls.exempt_tables == ()


def test_migguard_toml_flat(project):
    write(project / "migguard.toml", 'migrations = "sql"\npg_version = 16\n[rules]\nban-drop-column = "warning"\n')
    config = load_config()
    assert (config.migrations, config.pg_version, config.rules) == ("sql", 16, {"ban-drop-column": "warning"})
    assert config.source == str(project / "migguard.toml")


def test_migguard_toml_with_tool_table(project):
    write(project / "migguard.toml", '[tool.migguard]\ntenant_column = "org_id"\n[tool.migguard.rls]\n'
                                     'exempt_tables = ["public.tenants"]\n')
    config = load_config()
    assert config.tenant_column == "org_id"
    assert config.rls.exempt_tables == ("public.tenants",)


def test_pyproject_found_by_upward_search_from_a_subdirectory(project):
    write(project / "pyproject.toml", '[project]\nname = "app"\n[tool.migguard]\nlayout = "flyway"\n')
    deep = project / "src" / "app" / "db"
    deep.mkdir(parents=True)
    config = load_config(start=deep)
    assert config.layout == "flyway"
    assert config.source == str(project / "pyproject.toml")
    assert Path(config.root) == project


def test_pyproject_without_tool_table_is_passed_over(project):
    write(project / "migguard.toml", "pg_version = 14\n")
    write(project / "sub" / "pyproject.toml", '[tool.ruff]\nline-length = 100\n')
    assert find_config_file(project / "sub") == project / "migguard.toml"
    assert load_config(start=project / "sub").pg_version == 14


def test_nearest_file_wins_and_migguard_toml_before_pyproject(project):
    write(project / "migguard.toml", "pg_version = 13\n")
    write(project / "sub" / "pyproject.toml", "[tool.migguard]\npg_version = 16\n")
    write(project / "sub" / "migguard.toml", "pg_version = 17\n")
    assert load_config(start=project / "sub").pg_version == 17
    (project / "sub" / "migguard.toml").unlink()
    assert load_config(start=project / "sub").pg_version == 16


def test_explicit_config_overrides_the_search(project):
    write(project / "migguard.toml", "pg_version = 13\n")
    other = write(project / "ci" / "strict.toml", "pg_version = 17\n")
    config = load_config(str(other))
    assert config.pg_version == 17
    assert Path(config.root) == project / "ci"


def test_explicit_config_that_does_not_exist(project):
    with pytest.raises(ConfigError, match="config file not found: .*nope.toml"):
        load_config(str(project / "nope.toml"))


def test_cli_overrides_win_over_the_file(project):
    write(project / "migguard.toml", "pg_version = 13\n")
    assert load_config(pg_version=16).pg_version == 16
    assert load_config(pg_version=None).pg_version == 13


# --- refused -------------------------------------------------------------------------------------


def test_unknown_key_names_key_and_file(project):
    path = write(project / "migguard.toml", "[tool.migguard]\nmigratons = \"db/migrations\"\n")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.message == f"{path}: unknown configuration key 'migratons'"


def test_unknown_nested_key_names_its_table(project):
    write(project / "pyproject.toml", "[tool.migguard.rls]\nexempt = []\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: unknown configuration key 'rls.exempt'"):
        load_config()


@pytest.mark.parametrize("key", ["root", "source"])
def test_internal_fields_are_not_config_keys(project, key):
    write(project / "migguard.toml", f'{key} = "/etc"\n')
    with pytest.raises(ConfigError, match=rf"migguard.toml: unknown configuration key '{key}'"):
        load_config()


def test_unknown_rule_id_names_rule_and_file(project):
    write(project / "migguard.toml", '[tool.migguard.rules]\nban-drop-colum = "off"\n')
    with pytest.raises(ConfigError, match=r"migguard.toml: .*'rules'.*unknown rule id 'ban-drop-colum'"):
        load_config()


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('pg_version = "fifteen"', "pg_version"),
        ("pg_version = 9", "pg_version"),
        ('app_roles = "app_user"', "app_roles"),
        ('assume_in_transaction = "maybe"', "assume_in_transaction"),
        ('layout = "rails"', "layout"),
        ("lock_retries = -1", "lock_retries"),
        ('[rules]\nban-drop-column = "loud"', "rules.ban-drop-column"),
    ],
)
def test_bad_value_names_key_and_file(project, toml, key):
    write(project / "migguard.toml", toml + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.message.startswith(f"{project / 'migguard.toml'}: invalid value for '{key}': ")


def test_invalid_toml(project):
    write(project / "migguard.toml", "pg_version = \n")
    with pytest.raises(ConfigError, match="migguard.toml: invalid TOML"):
        load_config()


# --- effect on lint ------------------------------------------------------------------------------


def lint(project: Path, rules: dict[str, str], **options: object):
    write(project / "db" / "migrations" / "0001_drop.sql", DROP)
    options.setdefault("select", ("ban-drop-column",))
    return run_lint(LintOptions(use_cache=False, **options), Config(root=str(project), rules=rules))


def test_rule_severity_override_changes_the_finding(project):
    report = lint(project, {})
    assert [(f.rule, f.severity) for f in report.findings] == [("ban-drop-column", Severity.ERROR)]
    assert not report.ok
    report = lint(project, {"ban-drop-column": "warning"})
    assert [(f.rule, f.severity) for f in report.findings] == [("ban-drop-column", Severity.WARNING)]
    assert report.ok
    assert not lint(project, {"ban-drop-column": "warning"}, strict=True).ok
    assert lint(project, {"ban-drop-column": "info"}, strict=True).ok


def test_rule_off_disables_it(project):
    report = lint(project, {"ban-drop-column": "off"})
    assert report.findings == () and report.ok


def test_rule_policy_from_config():
    policy = RulePolicy.build({"ban-drop-column": "off", "unused-ignore": "error"})
    assert "ban-drop-column" not in policy.enabled
    assert policy.severities == {"unused-ignore": Severity.ERROR}
    assert "syntax-error" in RulePolicy.build({"syntax-error": "off"}).enabled  # never disabled


def test_configured_migrations_directory_is_relative_to_the_config_file(project, monkeypatch):
    write(project / "migguard.toml", 'migrations = "sql/migrations"\n')
    write(project / "sql" / "migrations" / "0001_drop.sql", DROP)
    (project / "app").mkdir()
    monkeypatch.chdir(project / "app")
    report = run_lint(LintOptions(select=("ban-drop-column",), use_cache=False), load_config())
    assert list(report.sources) == ["../sql/migrations/0001_drop.sql"]
    assert [f.rule for f in report.findings] == ["ban-drop-column"]


# --- secrets -------------------------------------------------------------------------------------


def test_secret_from_the_env_file(project, capsys):
    write(project / "vault" / ".env", (
        "# production\n"
        "PG_PROD_URL=postgresql://app:hunter2@db/prod\n"
        "export PG_SHADOW_URL='postgresql://shadow:pw@localhost/scratch'\n"
        "\n"
        "NOT A PAIR\n"
    ))
    config = load_config()
    assert secret("PG_PROD_URL", config) == "postgresql://app:hunter2@db/prod"
    assert secret("PG_SHADOW_URL", config) == "postgresql://shadow:pw@localhost/scratch"
    assert secret("MISSING", config) is None
    assert read_env_file(project / "vault" / ".env").keys() == {"PG_PROD_URL", "PG_SHADOW_URL"}
    out = capsys.readouterr()
    assert "hunter2" not in out.out + out.err


def test_environment_wins_over_the_env_file(project, monkeypatch):
    write(project / "vault" / ".env", "PG_PROD_URL=postgresql://app:file@db/prod\n")
    monkeypatch.setenv("PG_PROD_URL", "postgresql://app:env@db/prod")
    assert secret("PG_PROD_URL", load_config()) == "postgresql://app:env@db/prod"


def test_env_file_is_relative_to_the_config_and_configurable(project):
    write(project / "migguard.toml", 'env_file = "secrets/db.env"\n')
    write(project / "secrets" / "db.env", "PG_PROD_URL=postgresql://a:b@h/d\n")
    (project / "deep").mkdir()
    assert secret("PG_PROD_URL", load_config(start=project / "deep")) == "postgresql://a:b@h/d"


def test_missing_env_file_is_no_secret(project):
    assert secret("PG_PROD_URL", load_config()) is None


def test_unreadable_env_file_names_the_file_not_its_content(project):
    write(project / "vault" / ".env", "")
    (project / "vault" / ".env").write_bytes(b"PG_PROD_URL=postgresql://app:p\xe4ss@db/prod\n")
    with pytest.raises(ConfigError) as caught:
        secret("PG_PROD_URL", load_config())
    assert ".env" in caught.value.message and "p\\xe4ss" not in caught.value.message and "db/prod" not in caught.value.message

"""The fleet definition: config parsing, rollout order (canary, then waves), --only, missing keys,
and discovery / tenant schemas read from a real database."""

from __future__ import annotations

import psycopg
import pytest

from migguard.core.config import load_config
from migguard.core.errors import ConfigError, InputError
from migguard.fleet.targets import Target, load_targets, target_config

URL = "postgresql://app:Fl33t-Secret@db.example:5432/{}"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in ("PG_A", "PG_B", "PG_C", "PG_D", "PG_E", "PG_REGISTRY"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def configured(project, fleet: str):
    (project / "migguard.toml").write_text("[tool.migguard.fleet]\n" + fleet, encoding="utf-8")
    return load_config(start=project)


FIVE = 'targets = { a = "PG_A", b = "PG_B", c = "PG_C", d = "PG_D", e = "PG_E" }\n'


def set_urls(monkeypatch, *names):
    for name in names:
        monkeypatch.setenv(f"PG_{name.upper()}", URL.format(name))


def test_canary_first_then_waves_of_wave_size(project, monkeypatch):
    set_urls(monkeypatch, "a", "b", "c", "d", "e")
    config = configured(project, FIVE + 'canary = ["c"]\nwave_size = 2\nparallel = 3\n')
    targets = load_targets(config)
    assert [(t.name, t.group) for t in targets] == [
        ("c", "canary"), ("a", "wave-1"), ("b", "wave-1"), ("d", "wave-2"), ("e", "wave-2")]
    assert config.fleet.parallel == 3
    assert targets[0].url == URL.format("c") and targets[0].schema is None


def test_only_keeps_groups_and_refuses_unknown_names(project, monkeypatch):
    set_urls(monkeypatch, "a", "b", "c", "d", "e")
    config = configured(project, FIVE + 'canary = ["a"]\nwave_size = 3\n')
    assert [(t.name, t.group) for t in load_targets(config, only=("e", "a"))] == [("a", "canary"), ("e", "wave-2")]
    with pytest.raises(InputError, match="--only names unknown target.*: zz"):
        load_targets(config, only=("a", "zz"))


def test_missing_key_is_an_unreachable_target_not_a_crash(project, monkeypatch):
    set_urls(monkeypatch, "a", "c", "d", "e")
    targets = {t.name: t for t in load_targets(configured(project, FIVE))}
    assert targets["b"].unreachable == "PG_B is not set"
    assert targets["a"].unreachable is None


def test_key_read_from_the_env_file_like_the_single_target(project):
    (project / "vault").mkdir()
    (project / "vault" / ".env").write_text(f"PG_A={URL.format('a')}\n", encoding="utf-8")
    [target] = load_targets(configured(project, 'targets = { a = "PG_A" }\n'))
    assert target.url == URL.format("a") and target.unreachable is None


def test_repr_never_shows_the_url(project, monkeypatch):
    set_urls(monkeypatch, "a")
    [target] = load_targets(configured(project, 'targets = { a = "PG_A" }\n'))
    assert "Fl33t-Secret" not in repr(target) and "db.example" not in repr(target)
    assert "Fl33t-Secret" not in str(target)


@pytest.mark.parametrize(("fleet", "message"), [
    ("canary = []\n", "a fleet needs targets, discovery or tenant_schemas"),
    ('targets = { a = "postgresql://u:pw@h/db" }\n', "expected the name of an environment variable"),
    ('targets = { "a/b" = "PG_A" }\n', "may not contain control characters, '/'"),
    ('targets = { "a\\u0000" = "PG_A" }\n', "may not contain control characters"),
    (f'targets = {{ "{"x" * 129}" = "PG_A" }}\n', "expected a target name of 1 to 128 characters"),
    ('targets = { a = "PG_A" }\ncanary = ["b"]\n', "canary names unknown target"),
    ('targets = { a = "PG_A" }\nwave_size = 0\n', "fleet.wave_size"),
    ('targets = { a = "PG_A" }\nregion = "eu"\n', "unknown configuration key 'fleet.region'"),
])
def test_bad_fleet_config_is_a_config_error(project, fleet, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")) as raised:
        configured(project, fleet)
    assert "pw@" not in raised.value.message


def test_no_fleet_table_is_a_config_error(project):
    (project / "migguard.toml").write_text("[tool.migguard]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \[tool.migguard.fleet\] table"):
        load_targets(load_config(start=project))


def test_tenant_target_keeps_its_own_history_table(project):
    config = configured(project, 'targets = { a = "PG_A" }\n')
    tenant = Target("acme", "postgresql://h/db", "acme")
    assert target_config(config, tenant).history_table == 'migguard."schema_migrations@acme"'
    assert target_config(config, Target("a", "postgresql://h/db")).history_table == "migguard.schema_migrations"
    long_a, long_b = Target("x", "u", "t" * 60 + "a"), Target("y", "u", "t" * 60 + "b")
    assert long_a.history_table(config) != long_b.history_table(config)
    assert len(long_a.history_table(config).split(".", 1)[1].strip('"').encode()) <= 63


@pytest.mark.pg
@pytest.mark.e2e
def test_discovery_and_tenant_schemas_from_a_real_database(project, monkeypatch, pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE registry (name text, env_key text, active bool)")
        conn.execute("INSERT INTO registry VALUES ('eu', 'PG_A', true), ('us', 'PG_B', true), ('old', 'PG_C', false)")
        for schema in ("tenant_b", "tenant_a", "tenantx", "other"):
            conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(psycopg.sql.Identifier(schema)))
    monkeypatch.setenv("PG_REGISTRY", pg)
    set_urls(monkeypatch, "a")
    config = configured(project, '''canary = ["tenant_a"]
wave_size = 2
[tool.migguard.fleet.discovery]
url_env = "PG_REGISTRY"
query = "SELECT name, env_key FROM registry WHERE active ORDER BY name"
[tool.migguard.fleet.tenant_schemas]
url_env = "PG_REGISTRY"
pattern = "tenant\\\\_%"
''')
    targets = load_targets(config)
    assert [(t.name, t.group, t.schema, t.unreachable) for t in targets] == [
        ("tenant_a", "canary", "tenant_a", None),
        ("eu", "wave-1", None, None), ("us", "wave-1", None, "PG_B is not set"),
        ("tenant_b", "wave-2", "tenant_b", None)]
    assert targets[0].url == pg


@pytest.mark.pg
@pytest.mark.e2e
def test_discovery_query_that_fails_is_one_config_error(project, monkeypatch, pg):
    monkeypatch.setenv("PG_REGISTRY", pg)
    config = configured(project, '[tool.migguard.fleet.discovery]\nurl_env = "PG_REGISTRY"\n'
                                 'query = "SELECT name FROM no_such_registry"\n')
    with pytest.raises(ConfigError, match="fleet.discovery query failed: .*no_such_registry"):
        load_targets(config)

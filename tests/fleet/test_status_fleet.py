"""`migguard status --fleet` through the CLI: applied version, pending, drift, last result and when,
per target; a target that is down is named, the others still reported."""

from __future__ import annotations

import psycopg
import pytest

from migguard.fleet.targets import tenant_history_table
from tests.fleet.fleetkit import ACCOUNTS, ADD_NOTE, recorded, closed_port_url, databases, no_secret, project, run, run_json  # noqa: F401

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

MIGRATIONS = {"0001_accounts.sql": ACCOUNTS, "0002_note.sql": ADD_NOTE}


def test_status_per_target_with_last_result(tmp_path, monkeypatch, pg_cluster, databases, capsys):
    one, two, three = databases.create(), databases.create(), databases.create()
    fleet = 'targets = { one = "PG_ONE", two = "PG_TWO", three = "PG_THREE", four = "PG_FOUR" }\nwave_size = 3\n'
    project(tmp_path, monkeypatch, pg_cluster, fleet,
            {"PG_ONE": one, "PG_TWO": two, "PG_THREE": three, "PG_FOUR": closed_port_url(), "PG_PROD_URL": one},
            {"0001_accounts.sql": ACCOUNTS})
    applied = run(capsys, "apply", "--confirm-live")  # `one` through the single-target apply: audited
    assert applied[0] == 0, applied[2]
    monkeypatch.delenv("PG_PROD_URL")
    (tmp_path / "db" / "migrations" / "0002_note.sql").write_text(ADD_NOTE)
    recorded(two)
    recorded(three)
    with __import__("psycopg").connect(three, autocommit=True) as conn:
        conn.execute("CREATE TABLE rogue (id int)")

    code, document, err = run_json(capsys, "status", "--fleet")
    targets = {t["name"]: t for t in document["targets"]}
    assert code == document["exit_code"] == 3
    assert [(t["name"], t["group"]) for t in document["targets"]] == [
        ("one", "wave-1"), ("two", "wave-1"), ("three", "wave-1"), ("four", "wave-2")]
    for name in ("one", "two"):
        assert targets[name] | {"last_result": None, "last_at": None} == targets[name] | {
            "status": "pending", "applied_version": "0001", "applied": 1, "pending": ["0002"], "drift": [],
            "last_result": None, "last_at": None}
    assert targets["one"]["last_result"] == "apply applied" and targets["one"]["last_at"]
    assert targets["two"]["last_result"] == "0001 applied" and targets["two"]["last_at"]
    assert targets["three"]["status"] == "drifted" and any("rogue" in change for change in targets["three"]["drift"])
    assert targets["four"]["status"] == "unreachable" and "target four" in targets["four"]["reason"]
    assert no_secret(err, str(document))

    code, text, _err = run(capsys, "status", "--fleet", "--no-drift", "--only", "two", "--only", "four")
    lines = text.splitlines()
    assert code == 3
    assert lines[0].split() == ["TARGET", "GROUP", "STATUS", "APPLIED", "PENDING", "DRIFT", "LAST", "RESULT", "WHEN"]
    assert lines[1].split()[:6] == ["two", "wave-1", "pending", "0001", "0002", "not"]
    assert lines[2].split()[:3] == ["four", "wave-2", "unreachable"] and "target four" in lines[2]
    assert lines[-1] == "2 target(s): 1 unreachable, 1 pending"


def test_tenant_schemas_keep_their_own_histories(tmp_path, monkeypatch, pg_cluster, databases, capsys):
    url = databases.create("CREATE SCHEMA tenant_c; CREATE SCHEMA other")
    for schema in ("tenant_a", "tenant_b"):
        recorded(url, history=tenant_history_table("migguard.schema_migrations", schema), schema=schema)
    fleet = '[tool.migguard.fleet.tenant_schemas]\nurl_env = "PG_TENANTS"\npattern = "tenant\\\\_%"\n'
    project(tmp_path, monkeypatch, pg_cluster, fleet, {"PG_TENANTS": url}, MIGRATIONS)

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE tenant_b.rogue (id int)")

    code, document, _err = run_json(capsys, "status", "--fleet")
    assert [(t["name"], t["schema"], t["applied_version"], t["pending"], t["status"]) for t in document["targets"]] == [
        ("tenant_a", "tenant_a", "0001", ["0002"], "pending"), ("tenant_b", "tenant_b", "0001", ["0002"], "drifted"),
        ("tenant_c", "tenant_c", None, ["0001", "0002"], "pending")]
    assert document["targets"][0]["drift"] == [] and "rogue" in " ".join(document["targets"][1]["drift"])
    assert code == 1


def test_fleet_flags_refused_without_a_fleet(tmp_path, monkeypatch, capsys):
    (tmp_path / "migguard.toml").write_text("[tool.migguard]\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "status", "--fleet", "--no-drift")
    assert (code, out) == (2, "") and "no [tool.migguard.fleet] table" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "status", "--only", "eu")
    assert (code, out) == (2, "") and "--only and --parallel go with --fleet" in err

"""`migguard plan --fleet` through the CLI on the session cluster: one proof per distinct schema,
a down target and a drifted one named with their reasons, production left untouched."""

from __future__ import annotations

import json

import psycopg
import pytest

from migguard.fleet.targets import tenant_history_table
from tests.fleet.fleetkit import (  # noqa: F401 (databases: a fixture)
    ACCOUNTS,
    closed_port_url,
    databases,
    no_secret,
    project,
    recorded,
    run,
    run_json,
    written_files,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

SHORT_NAMES = """SET lock_timeout = '2s';
-- migguard:ignore constraint-missing-not-valid -- accounts is a small table
ALTER TABLE accounts ADD CONSTRAINT short_name CHECK (length(name) < 10);
"""
FLEET = """targets = { alpha = "PG_ALPHA", beta = "PG_BETA", gamma = "PG_GAMMA", delta = "PG_DELTA", eps = "PG_EPS" }
canary = ["alpha"]
wave_size = 2
parallel = 3
"""


@pytest.fixture
def fleet(tmp_path, monkeypatch, pg_cluster, databases):
    """alpha and beta: empty (one schema); gamma: a table no migration made (drifted); delta: down;
    eps: its key is not set."""
    urls = {"PG_ALPHA": databases.create(), "PG_BETA": databases.create(),
            "PG_GAMMA": databases.create("CREATE TABLE rogue (id int)"), "PG_DELTA": closed_port_url()}
    monkeypatch.delenv("PG_EPS", raising=False)
    root = project(tmp_path, monkeypatch, pg_cluster, FLEET, urls, {"0001_accounts.sql": ACCOUNTS})
    return root, urls


def test_one_proof_per_schema_and_every_failure_named(fleet, capsys):
    root, urls = fleet
    code, document, err = run_json(capsys, "plan", "--fleet")
    targets = {t["name"]: t for t in document["targets"]}
    assert [t["name"] for t in document["targets"]] == ["alpha", "beta", "gamma", "delta", "eps"]
    assert [t["group"] for t in document["targets"]] == ["canary", "wave-1", "wave-1", "wave-2", "wave-2"]
    # three reachable targets, two schemas: the shadow proof ran twice
    assert len(document["proofs"]) == 2
    assert targets["alpha"]["proof"] == targets["beta"]["proof"] != targets["gamma"]["proof"]
    assert targets["alpha"]["schema_fingerprint"] == targets["beta"]["schema_fingerprint"]
    assert targets["gamma"]["schema_fingerprint"] != targets["alpha"]["schema_fingerprint"]
    assert [targets[n]["status"] for n in ("alpha", "beta")] == ["ok", "ok"]
    assert targets["alpha"]["pending"] == ["0001"]
    assert targets["gamma"]["status"] == "drifted" and "rogue" in targets["gamma"]["reason"]
    assert targets["delta"]["status"] == "unreachable" and "target delta" in targets["delta"]["reason"]
    assert targets["eps"] == targets["eps"] | {"status": "unreachable", "reason": "PG_EPS is not set"}
    assert code == document["exit_code"] == 3  # the worst: a target that cannot be reached
    # the group's proof is a single-target plan directory whose fingerprint the fleet plan records
    proof = next(p for p in document["proofs"] if p["id"] == targets["alpha"]["proof"])
    assert proof["targets"] == ["alpha", "beta"] and proof["representative"] == "alpha"
    saved = json.loads((root / proof["directory"] / "plan.json").read_text())
    assert saved["fingerprint"] == proof["plan_fingerprint"] and saved["pending"] == ["0001"]
    # written next to the plans, as printed; the Markdown names every target, never a URL
    on_disk = (root / ".migguard" / "plans" / "fleet-plan.json").read_text()
    markdown = (root / ".migguard" / "plans" / "fleet-plan.md").read_text()
    assert json.loads(on_disk)["proofs"] == document["proofs"]
    assert all(f"| {name} |" in markdown for name in targets) and "**unreachable**" in markdown
    assert no_secret(on_disk, markdown, json.dumps(document), err, written_files(root))
    # production is only read
    with psycopg.connect(urls["PG_ALPHA"]) as conn:
        assert conn.execute("SELECT to_regclass('accounts'), to_regclass('migguard.schema_migrations')").fetchone() == (None, None)


def test_unknown_only_name_is_one_usage_line(fleet, capsys):
    code, out, err = run(capsys, "plan", "--fleet", "--only", "nobody")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [line for line in err.strip().splitlines() if "nobody" in line][-1:]
    assert "Traceback" not in err


def test_tenant_schemas_proved_once_per_distinct_schema(tmp_path, monkeypatch, pg_cluster, databases, capsys):
    """tenant_a and tenant_b hold 0001 (one schema), tenant_c nothing, tenant_d 0001 plus a table no
    migration made: three proofs for four tenants, tenant_d drifted; tenant_a's rows break 0002's
    CHECK, tenant_b's do not; production untouched."""
    url = databases.create("CREATE SCHEMA tenant_c; CREATE SCHEMA shared; CREATE TABLE shared.plans (id int)")
    for schema in ("tenant_a", "tenant_b", "tenant_d"):
        recorded(url, history=tenant_history_table("migguard.schema_migrations", schema), schema=schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE tenant_d.rogue (id int)")
        conn.execute("INSERT INTO tenant_a.accounts (name) VALUES ('a name far too long')")
        conn.execute("INSERT INTO tenant_b.accounts (name) VALUES ('short')")
    fleet = ('canary = ["tenant_b"]\n[tool.migguard.fleet.tenant_schemas]\nurl_env = "PG_TENANTS"\n'
             'pattern = "^tenant_[a-z]$"\nmatch = "regex"\n')
    project(tmp_path, monkeypatch, pg_cluster, fleet, {"PG_TENANTS": url},
            {"0001_accounts.sql": ACCOUNTS, "0002_short.sql": SHORT_NAMES})

    code, document, err = run_json(capsys, "plan", "--fleet")
    targets = {t["name"]: t for t in document["targets"]}
    assert [t["name"] for t in document["targets"]] == ["tenant_b", "tenant_a", "tenant_c", "tenant_d"]
    assert len(document["proofs"]) == 3
    assert targets["tenant_a"]["proof"] == targets["tenant_b"]["proof"]
    assert (targets["tenant_b"]["status"], targets["tenant_b"]["pending"]) == ("ok", ["0002"]), err
    # the data pre-checks read each tenant's own rows, in its own schema
    assert targets["tenant_a"]["status"] == "refused"
    assert targets["tenant_a"]["reason"].startswith("precheck-check: 1 row(s) in production violate the new check "
                                                    "condition on tenant_a.accounts.short_name")
    assert [f["rule"] for f in targets["tenant_b"]["findings"]] == []
    assert (targets["tenant_c"]["status"], targets["tenant_c"]["pending"]) == ("ok", ["0001", "0002"])
    assert targets["tenant_d"]["status"] == "drifted" and "rogue" in targets["tenant_d"]["reason"]
    assert code == 1
    assert no_secret(err, json.dumps(document), written_files(tmp_path))
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('tenant_a.accounts') IS NOT NULL, to_regclass('tenant_c.accounts'),"
                            " (SELECT count(*) FROM pg_constraint WHERE conname = 'short_name')").fetchone() == (True, None, 0)



def test_data_prechecks_run_on_each_target_of_a_proof(tmp_path, monkeypatch, pg_cluster, databases, capsys):
    """alpha and beta share one schema and one proof (on alpha, whose rows pass); beta's own rows
    break the new CHECK: beta alone is refused, naming the check."""
    alpha, beta = databases.create(), databases.create()
    recorded(alpha)
    recorded(beta)
    with psycopg.connect(beta, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('short'), ('a name far too long')")
    project(tmp_path, monkeypatch, pg_cluster, 'targets = { alpha = "PG_ALPHA", beta = "PG_BETA" }\n',
            {"PG_ALPHA": alpha, "PG_BETA": beta}, {"0001_accounts.sql": ACCOUNTS, "0002_short.sql": SHORT_NAMES})

    code, document, err = run_json(capsys, "plan", "--fleet")
    targets = {t["name"]: t for t in document["targets"]}
    assert len(document["proofs"]) == 1 and targets["alpha"]["proof"] == targets["beta"]["proof"]
    assert targets["alpha"]["status"] == "ok", (targets["alpha"], err)
    assert targets["beta"]["status"] == "refused" and targets["beta"]["reason"].startswith("precheck-check: 1 row(s)")
    assert [f["rule"] for f in targets["beta"]["findings"]] == ["precheck-check"]
    assert code == 1

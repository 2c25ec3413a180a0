"""Issue 11's acceptance: adopting migguard on a production it did not build, end to end.

Production is a fresh database on the session cluster built with plain SQL, owned by a
non-superuser LOGIN role made for this run: a tenant table under ENABLE + FORCE ROW LEVEL
SECURITY, a view, a partitioned table with two partitions, an extension, a sequence, rows in every
table. migguard connects as that owner (its URL carries a sentinel password that must appear in no
output or file) and runs the newcomer's path: init, baseline --confirm-live, new, plan, apply
--confirm-live, status, rollback --confirm-live. The shadow is the one a user keeps with `migguard
shadow start` (no PG_SHADOW_URL): it runs on production's major, started once for all the steps.
After each live step the test reads production as a superuser: history, columns, rows, RLS, owner.
"""

import json
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tests.apply.livekit import (
    SENTINEL,
    Project,
    applied_versions,
    assert_clean,
    audit_entries,
    columns,
    ensure_app_user,
    migguard,
    newest_plan,
    query,
    write,
)

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.all_majors]

TENANTS = ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222")
TENANT = "current_setting('app.tenant_id')::uuid"

# What the owner built before migguard (the rows go in before RLS is forced: the owner is subject to
# it), granted to the application role as livekit's NOTES is.
PRODUCTION = f"""
CREATE TABLE notes (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text,
    tag {{tag_type}},
    PRIMARY KEY (tenant_id, id)
);
CREATE VIEW note_counts WITH (security_invoker = true) AS SELECT tenant_id, count(*) AS notes FROM notes GROUP BY 1;
CREATE TABLE events (tenant_id uuid NOT NULL, at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE SEQUENCE invoice_numbers START 1000;
INSERT INTO notes (tenant_id, body, tag) VALUES
    ('{TENANTS[0]}', 'one', {{tag_value}}), ('{TENANTS[0]}', 'two', {{tag_value}}), ('{TENANTS[1]}', 'three', NULL);
INSERT INTO events VALUES ('{TENANTS[0]}', '2025-06-01', 'signup'), ('{TENANTS[1]}', '2026-06-01', 'signup');
SELECT nextval('invoice_numbers'), nextval('invoice_numbers');
GRANT SELECT, INSERT, UPDATE, DELETE ON notes, events, events_2025, events_2026 TO app_user;
GRANT SELECT ON note_counts TO app_user;
GRANT USAGE ON SEQUENCE invoice_numbers TO app_user;
""" + "".join(f"""ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} USING (tenant_id = {TENANT}) WITH CHECK (tenant_id = {TENANT});
""" for table in ("notes", "events", "events_2025", "events_2026"))

# A column on the tenant table, and one on the partitioned table (so on both partitions).
ADD_COLUMN = """SET lock_timeout = '2s';
ALTER TABLE notes ADD COLUMN priority integer;
ALTER TABLE events ADD COLUMN source text;
"""

# The extension each major's server has: the bundled 16 ships only plpgsql and vector (no contrib).
EXTENSIONS = {"citext": ("citext", "'Urgent'"), "vector": ("vector(3)", "'[1,2,3]'")}


@pytest.fixture
def production(pg, pg_cluster):
    """(superuser URL, owner role) of production; the role and the database go when the test ends."""
    owner = f"adopt_{uuid.uuid4().hex[:10]}"
    ensure_app_user(pg_cluster.url())
    available = {r[0] for r in query(pg, "SELECT name FROM pg_available_extensions")}
    extension = next(name for name in EXTENSIONS if name in available)
    tag_type, tag_value = EXTENSIONS[extension]
    with psycopg.connect(pg, autocommit=True) as admin:  # what the DBA did once: the role, the database, the extension
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(owner), sql.Literal(SENTINEL)))
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(admin.info.dbname), sql.Identifier(owner)))
        admin.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(extension)))
    with psycopg.connect(_as(pg, owner, SENTINEL), autocommit=True) as conn:
        conn.execute(PRODUCTION.format(tag_type=tag_type, tag_value=tag_value))
    yield pg, owner
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(conninfo_to_dict(pg)["dbname"])))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))


def _as(url: str, role: str, password: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{role}:{password}@")


@pytest.fixture
def project(tmp_path, production):
    url, owner = production
    project = Project(tmp_path, {"PG_PROD_URL": _as(url, owner, SENTINEL), "MIGGUARD_USER": "tester"})
    yield project
    migguard(project, "shadow", "stop")


def _state(url: str, owner: str) -> dict:
    """What must survive every step, read as a superuser."""
    return {
        "rows": query(url, "SELECT (SELECT count(*) FROM notes), (SELECT count(*) FROM events_2025), "
                           "(SELECT count(*) FROM events_2026), (SELECT last_value FROM invoice_numbers)")[0],
        "rls": query(url, "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                          "WHERE relname IN ('notes', 'events', 'events_2025', 'events_2026') ORDER BY 1"),
        "owners": query(url, "SELECT DISTINCT relowner::regrole::text FROM pg_class c JOIN pg_namespace n "
                             "ON n.oid = relnamespace WHERE nspname = 'public' AND relkind IN ('r', 'p', 'v', 'S')"),
        "policies": query(url, "SELECT tablename, policyname FROM pg_policies"),
        "database_owner": query(url, "SELECT pg_get_userbyid(datdba) FROM pg_database "
                                     "WHERE datname = current_database()"),
    } | {"owner": owner}


def _no_drift(project: Project, runs: list) -> dict:
    """`status --format json` (kept in `runs`): exit 0, no drift, no edited or missing migration."""
    status = migguard(project, "status", "--format", "json")
    runs.append(status)
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["drift"] == [] and report["edited"] == [] and report["missing"] == [], report
    return report


def test_adopting_an_existing_production_as_its_owner(project, production):
    url, owner = production
    before = _state(url, owner)
    assert before["rows"] == (3, 1, 1, 1001) and before["owners"] == [(owner,)]
    assert before["rls"] == [(table, True, True) for table in ("events", "events_2025", "events_2026", "notes")]
    runs = []

    def run(*args: str):
        done = migguard(project, *args)
        runs.append(done)
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        return done

    run("init", ".")
    shadow = run("shadow", "start")  # production's major, as production's URL says
    assert f"PostgreSQL {query(url, 'SHOW server_version_num')[0][0][:2]}" in shadow.stdout

    run("baseline", "--confirm-live")
    assert [p.name for p in project.migrations.glob("*.sql")] == ["0001_baseline.sql"]
    assert applied_versions(url) == ["0001"]
    assert _state(url, owner) == before
    report = _no_drift(project, runs)
    assert report["applied"] == ["0001"] and report["pending"] == []

    made = run("new", "add_column", "--template", "feature")
    (added,) = [p.name for p in project.migrations.glob("*.sql") if p.name != "0001_baseline.sql"]
    assert added.startswith("0002_") and added.endswith("add_column.sql"), made.stdout
    write(project, added, ADD_COLUMN)
    run("plan")
    document = json.loads((newest_plan(project) / "plan.json").read_text())
    assert document["pending"] == ["0002"] and document["drift"] == []
    plan = str(newest_plan(project))

    # the owner without BYPASSRLS: the preflight refuses before the backup, naming what is missing
    refused = migguard(project, "apply", "--plan", plan, "--confirm-live")
    runs.append(refused)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"role {owner} lacks BYPASSRLS" in refused.stderr and "nothing was touched" in refused.stderr
    assert applied_versions(url) == ["0001"] and "priority" not in columns(url, "notes")
    with psycopg.connect(url, autocommit=True) as admin:  # the README's "roles production needs"
        admin.execute(sql.SQL("ALTER ROLE {} BYPASSRLS").format(sql.Identifier(owner)))

    run("apply", "--plan", plan, "--confirm-live")
    assert applied_versions(url) == ["0001", "0002"]
    assert "priority" in columns(url, "notes")
    assert all("source" in columns(url, table) for table in ("events", "events_2025", "events_2026"))
    assert query(url, "SELECT count(*) FROM notes WHERE priority IS NULL") == [(3,)]
    assert _state(url, owner) == before  # data, RLS forced, owners: unchanged
    report = _no_drift(project, runs)
    assert report["applied"] == ["0001", "0002"] and report["pending"] == []

    run("rollback", "--confirm-live")
    assert applied_versions(url) == ["0001"]
    assert "priority" not in columns(url, "notes")
    assert not any("source" in columns(url, table) for table in ("events", "events_2025", "events_2026"))
    assert _state(url, owner) == before
    report = _no_drift(project, runs)
    assert report["applied"] == ["0001"] and report["pending"] == ["0002"]
    live = [(e["command"], e["result"], e["migrations"]) for e in audit_entries(project, verified=True)
            if e["result"] != "started"]
    assert live == [("baseline", "applied", ["0001"]), ("apply", "refused", ["0002"]), ("apply", "applied", ["0002"]),
                    ("rollback", "rolled-back", ["0002"])]
    assert_clean(project, *runs)

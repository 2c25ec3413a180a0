"""`migguard query` on a real PostgreSQL, through the real CLI and through `run_query`.

Production is a fresh database on the session cluster with a small tenant schema (RLS on
`bookings`), and two login roles made for the test: `ops_*` (BYPASSRLS: reads across tenants,
so it must filter on tenant_id) and `app_*` (subject to RLS: `--tenant` scopes it). Both
connect with a sentinel password in the URL (trust authentication ignores it) that must never
appear in any output or in the audit log.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from migguard.core.audit import AuditLog, verify
from migguard.core.config import load_config
from migguard.core.errors import GateRefused, InputError
from migguard.query.command import QueryOptions, load_playbooks, run_query
from tests.clirun import Result, run_cli

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

SENTINEL = "S3ntinel-Qu3ry-pw"
TENANT_A = "00000000-0000-0000-0000-00000000000a"
TENANT_B = "00000000-0000-0000-0000-00000000000b"
SECRET_NOTE = "zebra-private-note"  # a row value: printed when selected, never audited
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SCHEMA = f"""
CREATE TABLE tenants (id uuid PRIMARY KEY, slug text NOT NULL UNIQUE);
CREATE TABLE bookings (
    id        int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    note      text NOT NULL
);
CREATE TABLE events (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bookings
    USING (tenant_id = current_setting('app.tenant_id', true)::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)::uuid);
CREATE SEQUENCE ticket_seq;
-- VOLATILE and writes: nothing in `SELECT sneaky_write()` tells the parser so.
CREATE FUNCTION sneaky_write() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO events (body) VALUES ('written by a query');
    RETURN 1;
END
$$;
INSERT INTO tenants VALUES ('{TENANT_A}', 'acme'), ('{TENANT_B}', 'globex');
INSERT INTO bookings (tenant_id, note) VALUES
    ('{TENANT_A}', 'a1'), ('{TENANT_A}', 'a2'), ('{TENANT_A}', '{SECRET_NOTE}'),
    ('{TENANT_B}', 'b1'), ('{TENANT_B}', 'b2');
"""

CONFIG = """[tool.migguard]
tenant_column = "tenant_id"
tenant_setting = "app.tenant_id"
lock_timeout = "1s"
"""

PLAYBOOKS = """playbooks:
  - name: tenant-bookings
    description: Bookings of one tenant from an id on
    params: [tenant_id, min_id]
    sql: |
      SELECT id, note FROM bookings
      WHERE tenant_id = %(tenant_id)s AND id >= %(min_id)s::int AND note LIKE '%%'
      ORDER BY id
  - name: my-bookings
    description: Bookings of the tenant given with --tenant (scoped by RLS)
    tenant_scoped: true
    sql: SELECT id, note, current_setting('app.tenant_id') AS scope FROM bookings ORDER BY id
"""


class Prod:
    """The test's production database and project directory."""

    def __init__(self, root: Path, admin_url: str, ops_url: str, app_url: str, app_role: str) -> None:
        self.root, self.admin_url, self.ops_url, self.app_url, self.app_role = root, admin_url, ops_url, app_url, app_role
        self.audit = root / ".migguard" / "audit.jsonl"
        self.outputs: list[str] = []

    def cli(self, *args: str, url: str | None = None, stdin: str | None = None) -> Result:
        env = {**os.environ, "PG_PROD_URL": url or self.ops_url, "MIGGUARD_USER": "tester"}
        result = run_cli(["query", *args], cwd=self.root, env=env, stdin=stdin)
        self.outputs.append(result.stdout + result.stderr)
        return result

    def run(self, url: str | None = None, **options) -> object:
        config = load_config(str(self.root / "migguard.toml"))
        return run_query(QueryOptions(prod_url=url or self.ops_url, **options), config)

    def scalar(self, sql: str):
        with psycopg.connect(self.admin_url) as conn:
            return conn.execute(sql).fetchone()[0]

    def state(self) -> tuple:
        """Everything a write could change."""
        with psycopg.connect(self.admin_url) as conn:
            return conn.execute("SELECT (SELECT count(*) FROM bookings), (SELECT string_agg(note, ',' ORDER BY id) "
                                "FROM bookings), (SELECT count(*) FROM events), (SELECT last_value FROM ticket_seq), "
                                "(SELECT count(*) FROM pg_class WHERE relname = 't2')").fetchone()

    def entries(self) -> list[dict]:
        return list(AuditLog(self.audit).entries())

    def everything_written(self) -> str:
        files = [p.read_text(errors="replace") for p in self.root.rglob("*") if p.is_file()]
        return "\n".join(self.outputs + files)


def _role_url(url: str, role: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{role}:{SENTINEL}@")


@pytest.fixture
def prod(tmp_path, pg):
    suffix = uuid.uuid4().hex[:8]
    ops, app = f"ops_{suffix}", f"app_{suffix}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(f"CREATE ROLE {ops} LOGIN BYPASSRLS")
        conn.execute(f"CREATE ROLE {app} LOGIN")
        for role in (ops, app):
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
            conn.execute(f"GRANT INSERT ON events TO {role}")  # so only READ ONLY stands in the way
            conn.execute(f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE ticket_seq TO {role}")
    (tmp_path / "migguard.toml").write_text(CONFIG)
    (tmp_path / "playbooks.yaml").write_text(PLAYBOOKS)
    yield Prod(tmp_path, pg, _role_url(pg, ops), _role_url(pg, app), app)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {ops}, {app}")
        conn.execute(f"DROP ROLE {ops}, {app}")


def _one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("migguard: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_playbook_runs_with_bound_params(prod):
    result = prod.cli("--playbook", "tenant-bookings", "--param", f"tenant_id={TENANT_A}", "--param", "min_id=2",
                      "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document == {"version": 1, "ok": True, "command": "query", "columns": ["id", "note"],
                        "rows": [[2, "a2"], [3, SECRET_NOTE]], "row_count": 2, "truncated": False}
    assert "2 row(s) from playbook tenant-bookings" in result.stderr
    entry = prod.entries()[-1]
    assert entry["command"] == "query" and entry["result"] == "query" and entry["tenant"] == TENANT_A
    assert entry["details"]["playbook"] == "tenant-bookings" and entry["details"]["rows"] == 2
    assert entry["details"]["params"] == ["min_id", "tenant_id"] and len(entry["details"]["sql_sha256"]) == 64
    assert entry["target"] == prod.ops_url.replace(SENTINEL, "***")
    assert SECRET_NOTE not in prod.audit.read_text()  # row values are never audited


@pytest.mark.parametrize("args, message", [
    (("--param", f"tenant_id={TENANT_A}"), "needs --param for min_id"),
    (("--param", f"tenant_id={TENANT_A}", "--param", "min_id=1", "--param", "extra=1"), "does not declare parameter(s) extra"),
    (("--param", "tenant_id"), "--param takes NAME=VALUE"),
])
def test_playbook_param_errors_are_usage_errors(prod, args, message):
    result = prod.cli("--playbook", "tenant-bookings", *args)
    assert result.returncode == 2
    assert message in _one_line_error(result)
    assert result.stdout == ""


def test_unknown_playbook_and_bad_playbook_file(prod):
    unknown = prod.cli("--playbook", "nope")
    assert unknown.returncode == 2 and "unknown playbook 'nope'" in _one_line_error(unknown)
    (prod.root / "bad.yaml").write_text("playbooks:\n  - name: x\n    description: d\n    params: [a]\n"
                                        "    sql: SELECT %(b)s\n")
    bad = prod.cli("--playbooks", "bad.yaml", "--playbook", "x", "--param", "a=1")
    assert bad.returncode == 2 and "undeclared parameter(s): b" in _one_line_error(bad)
    sandbox_param = prod.cli("--sandbox", "SELECT 1", "--param", "a=1")
    assert sandbox_param.returncode == 2


def test_sandbox_select_prints_a_table(prod):
    result = prod.cli("--sandbox", "SELECT 42 AS answer, 'x' AS word, NULL::text AS nothing")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["answer | word | nothing", "-------+------+--------", "    42 | x    |"]
    assert prod.entries()[-1]["details"]["sandbox"] is True


def test_sandbox_reads_stdin_and_limit_caps_rows(prod):
    result = prod.cli("--sandbox", "-", "--limit", "10", "--format", "json",
                      stdin="SELECT g FROM generate_series(1, 50) g")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["row_count"] == 10 and document["truncated"] is True and document["rows"][-1] == [10]
    assert "raise --limit 10" in result.stderr


@pytest.mark.parametrize("sql, reason", [
    (f"UPDATE bookings SET note = 'x' WHERE tenant_id = '{TENANT_A}'", "UPDATE"),
    (f"DELETE FROM bookings WHERE tenant_id = '{TENANT_A}'", "DELETE"),
    ("INSERT INTO events (body) VALUES ('x')", "INSERT"),
    (f"WITH gone AS (DELETE FROM bookings WHERE tenant_id = '{TENANT_A}' RETURNING id) SELECT * FROM gone",
     "data-modifying WITH"),
    (f"SELECT * FROM bookings WHERE tenant_id = '{TENANT_A}' FOR UPDATE", "FOR UPDATE"),
    ("SELECT nextval('ticket_seq')", "nextval()"),
    ("SELECT * INTO t2 FROM events", "SELECT … INTO"),
    ("SELECT 1; DELETE FROM events", "2 statements"),
    ("EXPLAIN ANALYZE SELECT sneaky_write()", "EXPLAIN ANALYZE"),
])
def test_parser_refuses_writes_and_nothing_changes(prod, sql, reason):
    before = prod.state()
    result = prod.cli("--sandbox", sql)
    assert result.returncode == 1, result.stderr
    line = _one_line_error(result)
    assert "query refused" in line and reason in line
    assert prod.state() == before
    entry = prod.entries()[-1]
    assert entry["result"] == "refused" and entry["details"]["rows"] == 0


def test_volatile_function_write_is_stopped_by_the_read_only_transaction(prod):
    # Outside migguard the same role can write through the function (rolled back here)...
    with psycopg.connect(prod.ops_url) as conn:
        assert conn.execute("SELECT sneaky_write()").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        conn.rollback()
    before = prod.state()
    assert before[2] == 0
    # ...but the parser cannot see inside it, and READ ONLY refuses the INSERT.
    result = prod.cli("--sandbox", "SELECT sneaky_write()")
    assert result.returncode == 1, result.stderr
    line = _one_line_error(result)
    assert "READ ONLY transaction stopped it" in line and "read-only transaction" in line
    assert prod.state() == before
    assert prod.entries()[-1]["result"] == "refused"


def test_tenant_table_without_filter_is_refused(prod):
    result = prod.cli("--sandbox", "SELECT b.note FROM bookings b JOIN tenants t ON t.id = b.tenant_id")
    assert result.returncode == 1
    line = _one_line_error(result)
    assert "public.bookings is a multi-tenant table" in line and "--tenant" in line
    assert result.stdout == ""
    entry = prod.entries()[-1]
    assert entry["result"] == "refused" and "public.bookings" in entry["details"]["reason"]


def test_tenant_filter_lets_the_query_run(prod):
    result = prod.run(sandbox=f"SELECT b.id FROM bookings b JOIN tenants t ON t.id = b.tenant_id "
                              f"WHERE b.tenant_id = '{TENANT_B}' ORDER BY 1")
    assert result.columns == ("id",) and [r[0] for r in result.rows] == [4, 5]
    assert result.tenant == TENANT_B
    correlated = prod.run(sandbox="SELECT count(*) FROM bookings b WHERE b.tenant_id IN "
                                  "(SELECT id FROM tenants WHERE slug = 'acme')")
    assert correlated.rows == ((3,),)
    with pytest.raises(GateRefused, match="public.bookings"):  # an OR that lets other tenants through
        prod.run(sandbox=f"SELECT id FROM bookings WHERE tenant_id = '{TENANT_A}' OR id > 0")


def test_tenant_option_sets_the_setting_and_rls_limits_rows(prod):
    result = prod.cli("--sandbox", "SELECT note, current_setting('app.tenant_id') AS scope FROM bookings ORDER BY id",
                      "--tenant", TENANT_B, "--format", "json", url=prod.app_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rows"] == [["b1", TENANT_B], ["b2", TENANT_B]]
    entry = prod.entries()[-1]
    assert entry["tenant"] == TENANT_B and entry["result"] == "query"
    scoped = prod.cli("--playbook", "my-bookings", "--tenant", TENANT_A, url=prod.app_url)
    assert scoped.returncode == 0, scoped.stderr
    assert "a1" in scoped.stdout and "b1" not in scoped.stdout
    missing = prod.cli("--playbook", "my-bookings", url=prod.app_url)
    assert missing.returncode == 2 and "tenant_scoped: pass --tenant" in _one_line_error(missing)


def test_tenant_option_is_refused_when_rls_does_not_apply(prod):
    # The ops role has BYPASSRLS: setting the tenant would scope nothing.
    with pytest.raises(GateRefused, match=r"row-level security is not active on public\.bookings"):
        prod.run(sandbox="SELECT * FROM bookings", tenant=TENANT_A)
    assert prod.entries()[-1]["result"] == "refused" and prod.entries()[-1]["tenant"] == TENANT_A


def test_statement_timeout_fires(prod):
    started = time.monotonic()
    result = prod.cli("--sandbox", "SELECT pg_sleep(10)", "--timeout", "1s")
    assert time.monotonic() - started < 9
    assert result.returncode == 3
    assert "statement timeout (1s)" in _one_line_error(result)
    entry = prod.entries()[-1]
    assert entry["result"] == "failed" and entry["details"]["sqlstate"] == "57014"
    bad = prod.cli("--sandbox", "SELECT 1", "--timeout", "0")
    assert bad.returncode == 2


def test_syntax_error_is_a_usage_error(prod):
    result = prod.cli("--sandbox", "SELEC 1")
    assert result.returncode == 2 and "not valid SQL" in _one_line_error(result)


def test_audit_chain_and_no_secret_anywhere(prod):
    prod.cli("--playbook", "tenant-bookings", "--param", f"tenant_id={TENANT_A}", "--param", "min_id=1")
    prod.cli("--sandbox", "SELECT * FROM bookings")
    prod.cli("--sandbox", "SELECT 1", url=prod.ops_url + "&dbname=nope_db")
    assert [e["result"] for e in prod.entries()] == ["query", "refused", "failed"]
    assert all(e["command"] == "query" for e in prod.entries())
    assert verify(prod.audit).ok
    assert SENTINEL not in prod.everything_written()
    assert SECRET_NOTE not in prod.audit.read_text()


def test_example_playbooks_run_on_the_example_schema(pg, tmp_path):
    """The shipped examples/playbooks.yaml against the example migrations, as an application role."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        for migration in sorted((EXAMPLES / "db" / "migrations").glob("000[1-6]_*.sql")):
            conn.execute(migration.read_text())
        conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE app_user")
        conn.execute(f"""
            INSERT INTO tenants (id, slug, name) VALUES ('{TENANT_A}', 'acme', 'Acme'), ('{TENANT_B}', 'globex', 'Globex');
            INSERT INTO users (tenant_id, email, full_name) VALUES ('{TENANT_A}', 'ann@acme.test', 'Ann');
            INSERT INTO services (tenant_id, name, duration_min, price_cents) VALUES ('{TENANT_A}', 'Haircut', 30, 2500);
            INSERT INTO bookings (tenant_id, service_id, customer_id, starts_at, status)
                SELECT '{TENANT_A}', s.id, u.id, now() + interval '1 day', 'confirmed' FROM services s, users u;
            INSERT INTO invoices (tenant_id, booking_id, number, amount_cents, issued_at)
                SELECT '{TENANT_A}', id, 'INV-1', 2500, '2024-03-05' FROM bookings;
            INSERT INTO tenant_addons (tenant_id, addon, state) VALUES
                ('{TENANT_A}', 'hrms', 'trial'), ('{TENANT_B}', 'hrms', 'active'), ('{TENANT_B}', 'payroll', 'grace');
        """)
    playbooks = load_playbooks(EXAMPLES / "playbooks.yaml")
    assert len(playbooks) >= 3
    config = load_config(str(EXAMPLES / "migguard.toml"))
    config = config.model_copy(update={"root": str(tmp_path)})  # the audit log goes to tmp_path
    params = {"tenant_id": TENANT_A, "days": "7", "since": "2024-01-01"}
    expected = {"upcoming-bookings": 1, "monthly-invoicing": 1, "addon-entitlements": 1}  # RLS hides globex's add-ons
    try:
        for playbook in playbooks.values():
            given = {name: params[name] for name in playbook.params}
            result = run_query(QueryOptions(playbook=playbook.name, params=given, tenant=TENANT_A,
                                            playbooks_path=EXAMPLES / "playbooks.yaml",
                                            prod_url=_role_url(pg, role)), config)
            assert result.row_count == expected[playbook.name], playbook.name
        with pytest.raises(InputError):
            run_query(QueryOptions(playbook="upcoming-bookings", params={"tenant_id": TENANT_A},
                                   playbooks_path=EXAMPLES / "playbooks.yaml", prod_url=_role_url(pg, role)), config)
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")

"""`migguard scan-app`: each pattern flagged and its safe twin clean, name matching, the allowlist,
the example app, and the command's exit codes and JSON as a user sees them (main() in process, tests/clirun.py)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from migguard.scan.scanner import (
    DELETE_RULE, ORM_RULE, SQL_RULE, Tenancy, name_forms, python_literals, scan_text, snake, sql_problems,
    sql_trees, tables_from_migrations, tables_from_schema,
)
from migguard.schema.model import Column, SchemaModel, Table
from tests.clirun import Result, run_cli

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
TENANCY = Tenancy(frozenset({"hr_employees", "hr_departments", "bookings", "services", "invoices", "tenant_addons"}))


def problems(sql: str) -> list[tuple[str, str]]:
    trees = sql_trees(sql)
    assert trees, f"does not parse: {sql}"
    return [(p.table, p.action) for tree in trees for p in sql_problems(tree, TENANCY)]


def flags(sql: str, *expected: tuple[str, str]) -> None:
    found = problems(sql)
    assert found, f"expected a finding for: {sql}"
    if expected:
        assert found == list(expected)


def clean(sql: str) -> None:
    assert problems(sql) == [], sql


def scan(path: str, source: str, tenancy: Tenancy = TENANCY) -> list[tuple[int, int, str]]:
    result = scan_text(path, textwrap.dedent(source).lstrip("\n"), tenancy)
    return [(f.line, f.column, f.rule) for f in result.findings]


# --- SQL -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bad", "good"), [
    ("SELECT * FROM bookings WHERE id = $1", "SELECT * FROM bookings WHERE tenant_id = $1 AND id = $2"),
    ("SELECT * FROM bookings b WHERE b.id = $1", "SELECT * FROM bookings b WHERE b.tenant_id = ANY($1) AND b.id = $2"),
    ("SELECT * FROM bookings WHERE id = $1", "SELECT * FROM bookings WHERE bookings.tenant_id IN ($1, $2)"),
    ("SELECT * FROM bookings WHERE tenant_id = $1 OR id = $2",
     "SELECT * FROM bookings WHERE (tenant_id = $1 AND id = 1) OR (tenant_id = $1 AND id = 2)"),
    ("SELECT * FROM bookings WHERE tenant_id IS NOT NULL", "SELECT * FROM bookings WHERE tenant_id::text = $1"),
    ("UPDATE bookings SET status = 'cancelled' WHERE id = $1",
     "UPDATE bookings SET status = 'cancelled' WHERE id = $1 AND tenant_id = $2"),
    ("DELETE FROM invoices WHERE id = $1", "DELETE FROM invoices WHERE id = $1 AND tenant_id = $2"),
    ("INSERT INTO bookings (service_id, starts_at) VALUES ($1, $2)",
     "INSERT INTO bookings (tenant_id, service_id, starts_at) VALUES ($1,$2,$3)"),
    ("SELECT * FROM bookings WHERE tenant_id = $1 AND id IN (SELECT booking_id FROM invoices WHERE number = $2)",
     "SELECT * FROM bookings WHERE tenant_id = $1 AND id IN (SELECT booking_id FROM invoices WHERE tenant_id = $1)"),
    ("WITH b AS (SELECT * FROM bookings WHERE id = $1) SELECT * FROM b",
     "WITH b AS (SELECT * FROM bookings WHERE tenant_id = $1) SELECT * FROM b"),
    ("SELECT * FROM bookings b WHERE b.tenant_id = $1 AND EXISTS (SELECT 1 FROM invoices i WHERE i.booking_id = b.id)",
     "SELECT * FROM bookings b WHERE b.tenant_id = $1 AND EXISTS "
     "(SELECT 1 FROM invoices i WHERE i.booking_id = b.id AND i.tenant_id = b.tenant_id)"),
    ("SELECT * FROM bookings WHERE tenant_id = current_setting('app.tenant_id') OR true",
     "SELECT * FROM bookings WHERE tenant_id = current_setting('app.tenant_id')::uuid"),
])
def test_sql_flagged_and_safe_twin_clean(bad, good):
    flags(bad)
    clean(good)


def test_actions_name_what_an_attacker_could_do():
    flags("SELECT * FROM bookings", ("bookings", "read"))
    flags("UPDATE bookings SET status = 'x'", ("bookings", "update"))
    flags("DELETE FROM bookings", ("bookings", "delete"))
    flags("INSERT INTO bookings (id) VALUES (1)", ("bookings", "insert"))
    messages = {f.message for f in scan_text("q.sql", "DELETE FROM bookings WHERE id = $1;\n", TENANCY).findings}
    assert messages == {"DELETE from bookings has no tenant_id filter: a user of one tenant could delete other "
                        "tenants' rows."}


def test_insert_without_a_column_list_gives_every_column():
    clean("INSERT INTO bookings VALUES ($1, $2, $3)")
    clean("INSERT INTO tenants (slug) VALUES ($1)")


def test_tables_without_the_tenant_column_are_not_monitored():
    clean("SELECT * FROM tenants WHERE id = $1")
    clean("UPDATE users_sessions SET seen_at = now()")


def test_join_is_fine_when_tied_to_a_tenant_scoped_table_or_a_parameter():
    flags("SELECT * FROM bookings b JOIN services s ON s.id = b.service_id WHERE b.tenant_id = $1",
          ("services", "read"))
    clean("SELECT * FROM bookings b JOIN services s ON s.id = b.service_id AND s.tenant_id = b.tenant_id "
          "WHERE b.tenant_id = $1")
    clean("SELECT * FROM bookings b JOIN services s ON s.id = b.service_id AND s.tenant_id = $1 WHERE b.tenant_id = $1")
    clean("SELECT * FROM bookings b JOIN services s USING (tenant_id) WHERE b.tenant_id = $1")
    clean("SELECT * FROM bookings b JOIN services s ON s.tenant_id = b.tenant_id, invoices i "
          "WHERE i.tenant_id = b.tenant_id AND b.tenant_id = $1")
    # Tied to each other only: neither is scoped.
    flags("SELECT * FROM bookings b JOIN services s ON s.tenant_id = b.tenant_id")
    # A LEFT JOIN's ON does not filter the left table.
    flags("SELECT * FROM bookings b LEFT JOIN services s ON s.id = b.service_id AND b.tenant_id = $1",
          ("bookings", "read"), ("services", "read"))
    # The tenant registry pinned by slug scopes what it joins.
    clean("SELECT b.* FROM bookings b JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = $1")


def test_cte_and_derived_table_scope_what_they_join():
    clean("WITH mine AS (SELECT * FROM bookings WHERE tenant_id = $1) "
          "SELECT * FROM mine m JOIN invoices i ON i.booking_id = m.id AND i.tenant_id = m.tenant_id")
    flags("WITH mine AS (SELECT * FROM bookings WHERE tenant_id = $1) "
          "SELECT * FROM mine m JOIN invoices i ON i.booking_id = m.id", ("invoices", "read"))
    clean("SELECT * FROM (SELECT * FROM bookings WHERE tenant_id = $1) b "
          "JOIN invoices i ON i.tenant_id = b.tenant_id")


def test_update_from_and_delete_using_check_every_table():
    flags("UPDATE bookings b SET status = 'x' FROM services s WHERE s.id = b.service_id AND b.tenant_id = $1",
          ("services", "read"))
    clean("DELETE FROM bookings b USING services s WHERE s.id = b.service_id AND b.tenant_id = $1 "
          "AND s.tenant_id = b.tenant_id")


def test_camel_and_pascal_case_table_names_are_the_same_table():
    assert snake("hrEmployees") == snake("HrEmployees") == snake("hr_employees") == "hr_employees"
    assert snake("TenantID") == snake("tenantId") == "tenant_id"
    assert name_forms("hr_employees") == ("hr_employees", "hrEmployees", "HrEmployees")
    flags('SELECT * FROM "hrEmployees" WHERE id = $1', ("hrEmployees", "read"))
    clean('SELECT * FROM "HrEmployees" WHERE "tenantId" = $1')
    camel_config = Tenancy(frozenset({"hrEmployees"}), column="tenantId")
    trees = sql_trees("SELECT * FROM hr_employees WHERE tenant_id = $1")
    assert trees is not None and sql_problems(trees[0], camel_config) == []


# --- literals in code --------------------------------------------------------------------------------

def test_python_strings_fstrings_concatenation_and_docstrings():
    found = scan("app/q.py", '''
        """SELECT * FROM bookings -- a docstring, never executed."""
        A = "SELECT * FROM bookings WHERE id = %s"
        B = "SELECT * FROM bookings WHERE tenant_id = %(t)s AND id = %(id)s"
        C = f"SELECT * FROM bookings WHERE tenant_id = {tenant} AND id = {booking}"
        D = ("SELECT * FROM invoices "
             "WHERE id = :id")
        E = "SELECT * FROM bookings " + "WHERE tenant_id = ?"
        F = f"""DELETE FROM bookings
                WHERE id = {booking}"""
        G = "SELECT * FROM hr_employees WHERE id = {}".format(x)
        H = "Select a plan"
    ''')
    assert found == [(2, 5, SQL_RULE), (5, 6, SQL_RULE), (8, 5, SQL_RULE), (10, 5, SQL_RULE)]


def test_python_positions_count_characters_not_bytes():
    literals = python_literals('x = "é"; y = "SELECT 1"\n')
    assert literals is not None
    assert [lit.start for lit in literals] == [4, 13]


def test_python_that_does_not_parse_is_an_info_finding_not_a_crash():
    result = scan_text("app/broken.py", "def f(:\n    q = 'SELECT * FROM bookings'\n", TENANCY)
    assert [(f.rule, f.severity.value) for f in result.findings] == [("unscanned-file", "info")]


def test_typescript_strings_templates_and_comments():
    found = scan("app/q.ts", '''
        const a = 'SELECT * FROM bookings WHERE id = $1';
        const b = "SELECT * FROM bookings WHERE tenant_id = $1";
        const c = `
          SELECT * FROM bookings
          WHERE id = ${id}`;
        const d = `SELECT * FROM bookings WHERE tenant_id = ${tenantId} AND id = ${id}`;
        // const e = "SELECT * FROM bookings";
        /* const f = "DELETE FROM bookings"; */
        const g = sql`DELETE FROM ${hrEmployees} WHERE ${hrEmployees.id} = ${id}`;
        const h = sql`DELETE FROM ${hrEmployees} WHERE ${hrEmployees.tenantId} = ${t} AND ${hrEmployees.id} = ${id}`;
        const re = /'SELECT/g, s = "SELECT * FROM invoices WHERE id = 1" + ' AND tenant_id = 2';
        const nested = `${cond ? `SELECT * FROM invoices` : "x"}`;
        const text = "Select the bookings to export";
    ''')
    assert found == [(1, 11, SQL_RULE), (3, 11, SQL_RULE), (9, 14, SQL_RULE), (12, 26, SQL_RULE)]


def test_go_raw_and_interpreted_strings():
    found = scan("app/q.go", '''
        package q

        const safe = `SELECT id FROM services WHERE tenant_id = $1`
        const unsafe = `
        UPDATE services SET price_cents = $2
        WHERE id = $1`

        func f() {
            db.Query("SELECT * FROM bookings WHERE tenant_id = $1 " +
                "AND id = $2")
            db.Query("SELECT * FROM bookings WHERE id = $1", r := 'x')
        }
    ''')
    assert found == [(4, 16, SQL_RULE), (11, 14, SQL_RULE)]


def test_sql_files_are_split_into_statements():
    result = scan_text("q.sql", "SELECT 1;\nSELECT *\n  FROM bookings;\nSELECT * FROM bookings WHERE tenant_id = $1;\n",
                       TENANCY)
    assert [(f.line, f.column, f.end_line) for f in result.findings] == [(2, 1, 3)]
    assert result.sql_queries == 3


def test_literal_that_does_not_parse_is_skipped_and_counted():
    result = scan_text("q.ts", 'const a = "Delete this booking?";\nconst b = "SELECT FROM WHERE";\n', TENANCY)
    assert result.findings == [] and result.sql_unparsed == 2


# --- ORM (Drizzle-style) ----------------------------------------------------------------------------

def test_eq_on_a_monitored_table_needs_tenant_id_in_the_same_statement():
    found = scan("server/routes/hr.ts", '''
        const [a] = await db.select().from(hrEmployees).where(eq(hrEmployees.id, id));
        const [b] = await db
          .select()
          .from(hrEmployees)
          .where(and(eq(hrEmployees.id, id), eq(hrEmployees.tenantId, req.tenantId)))
          .limit(1);
        const [c] = await db.select().from(services).where(eq(services.id, id));
        const tenantId = req.tenantId;
        await db.update(services).set({ name }).where(eq(services.id, id));
        await db.update(services).set({ name }).where(and(eq(services.id, id), eq(services.tenantId, tenantId)));
        const [d] = await db.select().from(users).where(eq(users.id, id));
    ''')
    assert found == [(1, 55, ORM_RULE), (7, 52, ORM_RULE), (9, 47, ORM_RULE)]


def test_find_first_and_find_many_need_tenant_id_in_their_argument():
    found = scan("server/routes/hr.ts", '''
        const one = await db.query.hrEmployees.findFirst({ where: eq(hrEmployees.id, id) });
        const two = await db.query.hrEmployees.findFirst({
          where: and(eq(hrEmployees.id, id), eq(hrEmployees.tenantId, tenantId)),
        });
        const all = await db.query.hrDepartments.findMany();
        const mine = await db.query.hrDepartments.findMany({ where: eq(hrDepartments.tenantId, tenantId) });
        const other = await db.query.auditLog.findMany();
    ''')
    assert found == [(1, 40, ORM_RULE), (5, 42, ORM_RULE)]


def test_delete_outside_admin_routes_needs_tenant_id():
    source = '''
        router.delete("/bookings/:id", async (req, res) => {
          await db.delete(bookings).where(eq(bookings.id, id));
          await db.delete(bookings).where(and(eq(bookings.id, id), eq(bookings.tenantId, req.tenantId)));
          await tx.delete(schema.invoices).where(eq(invoices.id, id));
          cache.delete(key);
        });
    '''
    assert scan("server/routes/bookings.ts", source) == [(2, 12, DELETE_RULE), (4, 12, DELETE_RULE)]
    assert scan("server/routes/admin/bookings.ts", source) == []
    assert scan("server/routes/super-admin.ts", source) == []


def test_orm_matches_snake_camel_and_pascal_names():
    tenancy = Tenancy(frozenset({"hr_employees"}))
    found = scan("a.ts", '''
        await db.select().from(hrEmployees).where(eq(hrEmployees.id, id));
        await db.select().from(HrEmployees).where(eq(HrEmployees.id, id));
        await db.select().from(hr_employees).where(eq(hr_employees.id, id));
        await db.select().from(hr_employees).where(and(eq(hr_employees.id, id), eq(hr_employees.tenant_id, t)));
    ''', tenancy)
    assert [line for line, _, _ in found] == [1, 2, 3]


def test_orm_calls_in_comments_and_strings_are_not_code():
    assert scan("a.ts", '''
        // await db.delete(bookings).where(eq(bookings.id, id));
        const doc = "db.delete(bookings)";
        /* eq(hrEmployees.id, id) */
    ''') == []


def test_statement_window_stops_at_the_enclosing_block():
    found = scan("a.ts", '''
        async function remove(tenantId: string, id: number): Promise<void> {
          await db.delete(bookings).where(eq(bookings.id, id));
        }
        async function ok(tenantId: string, id: number) {
          logger.info({ tenantId });
          await db.delete(bookings).where(eq(bookings.id, id));
        }
    ''')
    assert found == [(2, 12, DELETE_RULE), (6, 12, DELETE_RULE)]


# --- monitored tables ------------------------------------------------------------------------------

def test_monitored_tables_from_the_migrations_directory():
    tables = tables_from_migrations(EXAMPLES / "db" / "migrations", "tenant_id")
    assert tables == {"users", "hr_departments", "hr_employees", "services", "bookings", "invoices",
                      "tenant_addons", "subscriptions", "payouts"}


def test_monitored_tables_from_a_schema_snapshot(tmp_path):
    def table(name, *columns):
        return Table(schema_name="public", name=name,
                     columns={c: Column(name=c, position=i, type="bigint") for i, c in enumerate(columns, 1)})

    model = SchemaModel(tables={"public.tenants": table("tenants", "id"),
                                "public.hr_employees": table("hr_employees", "id", "tenant_id")})
    snapshot = tmp_path / "schema-after.json"
    snapshot.write_text(model.to_json(), encoding="utf-8")
    assert tables_from_schema(snapshot, "tenant_id") == {"hr_employees"}


# --- the command ---------------------------------------------------------------------------------------

def migguard(*args: str, cwd: Path) -> Result:
    return run_cli(args, cwd=cwd)


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("migguard: error: "), stderr
    return lines[0]


EXPECTED_EXAMPLE_FINDINGS = {
    ("app/queries/services.sql", 10, SQL_RULE),
    ("app/reports/bookings.go", 24, SQL_RULE),
    ("app/routes/bookings.ts", 11, DELETE_RULE),
    ("app/routes/bookings.ts", 36, SQL_RULE),
    ("app/routes/employees.ts", 26, ORM_RULE),
    ("app/routes/employees.ts", 41, ORM_RULE),
    ("app/services/invoices.py", 33, SQL_RULE),
    ("app/services/invoices.py", 41, SQL_RULE),
    ("app/services/invoices.py", 55, SQL_RULE),
}


def test_example_app_gives_exactly_the_expected_findings():
    done = migguard("scan-app", "app", "--format", "json", cwd=EXAMPLES)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert {(f["path"], f["line"], f["rule"]) for f in document["findings"]} == EXPECTED_EXAMPLE_FINDINGS
    assert document["summary"]["allowlisted"] == 1  # the update after a tenant-scoped fetch
    assert "gate refused" in done.stderr


def test_example_allowlist_entry_is_what_hides_the_update(tmp_path):
    empty = tmp_path / "allow"
    empty.write_text("# nothing allowed\n", encoding="utf-8")
    done = migguard("scan-app", "app", "--allowlist", str(empty), "--format", "json", cwd=EXAMPLES)
    found = {(f["path"], f["line"], f["rule"]) for f in json.loads(done.stdout)["findings"]}
    assert found - EXPECTED_EXAMPLE_FINDINGS == {("app/routes/bookings.ts", 22, ORM_RULE)}


def test_example_app_scanned_from_the_repository_root_finds_the_allowlist_above_it():
    done = migguard("scan-app", "examples/app", "--tables", "bookings,hr_employees", "--format", "json", cwd=ROOT)
    document = json.loads(done.stdout)
    assert document["summary"]["allowlisted"] == 1
    assert ("examples/app/routes/employees.ts", 41, ORM_RULE) in {
        (f["path"], f["line"], f["rule"]) for f in document["findings"]}


def write_app(tmp_path: Path) -> Path:
    (tmp_path / "src" / "routes").mkdir(parents=True)
    (tmp_path / "src" / "routes" / "a.ts").write_text(
        "await db.delete(bookings).where(eq(bookings.id, id));\n"
        "const ok = await db.query.bookings.findMany({ where: eq(bookings.tenantId, tenantId) });\n"
        "const q = 'SELECT * FROM bookings WHERE id = $1';\n", encoding="utf-8")
    (tmp_path / "src" / "b.py").write_text("Q = 'SELECT * FROM bookings WHERE tenant_id = %s'\n", encoding="utf-8")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "index.js").write_text("db.delete(bookings);\n", encoding="utf-8")
    return tmp_path


def test_exit_codes(tmp_path):
    app = write_app(tmp_path)
    assert migguard("scan-app", "src", "--tables", "bookings", cwd=app).returncode == 1
    assert migguard("scan-app", "src/b.py", "--tables", "bookings", cwd=app).returncode == 0
    missing = migguard("scan-app", "nowhere", "--tables", "bookings", cwd=app)
    assert missing.returncode == 2 and "nowhere" in one_error_line(missing.stderr)
    no_args = migguard("scan-app", cwd=app)
    assert no_args.returncode == 2
    no_tables = migguard("scan-app", "src", cwd=app)
    assert no_tables.returncode == 2 and "no monitored tables" in one_error_line(no_tables.stderr)
    bad_format = migguard("scan-app", "src", "--tables", "bookings", "--format", "yaml", cwd=app)
    assert bad_format.returncode == 2


def test_allowlist_line_and_file_entries(tmp_path):
    app = write_app(tmp_path)
    (app / ".migguard-allow").write_text(
        "# Updates by primary key after a tenant-scoped fetch.\n"
        "src/routes/a.ts:1   # the delete, fetched with tenantId first\n", encoding="utf-8")
    done = migguard("scan-app", "src", "--tables", "bookings", "--format", "json", cwd=app)
    assert [(f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]] == [("src/routes/a.ts", 3)]
    assert done.returncode == 1
    (app / ".migguard-allow").write_text("src/routes/a.ts:\n", encoding="utf-8")
    done = migguard("scan-app", "src", "--tables", "bookings", "--format", "json", cwd=app)
    assert json.loads(done.stdout)["findings"] == [] and done.returncode == 0
    # Relative to the scanned root works too, and so does an explicit --allowlist elsewhere.
    other = tmp_path / "elsewhere.txt"
    other.write_text("routes/a.ts:\n", encoding="utf-8")
    done = migguard("scan-app", "src", "--tables", "bookings", "--allowlist", str(other), cwd=app)
    assert done.returncode == 0, done.stdout


def test_unused_allowlist_entry_is_a_warning_that_does_not_fail(tmp_path):
    app = write_app(tmp_path)
    (app / ".migguard-allow").write_text("src/b.py:1\nsrc/gone.ts:\n", encoding="utf-8")
    done = migguard("scan-app", "src/b.py", "--tables", "bookings", "--format", "json", cwd=app)
    findings = json.loads(done.stdout)["findings"]
    assert [(f["path"], f["line"], f["rule"], f["severity"]) for f in findings] == [
        (".migguard-allow", 1, "unused-allowlist-entry", "warning"),
        (".migguard-allow", 2, "unused-allowlist-entry", "warning"),
    ]
    assert done.returncode == 0


@pytest.mark.parametrize("line", ["src/a.ts", "src/a.ts:abc", ":12", "src/a.ts:0"])
def test_bad_allowlist_line_is_a_usage_error_naming_the_line(tmp_path, line):
    app = write_app(tmp_path)
    (app / ".migguard-allow").write_text(f"# comment\n\n{line}\n", encoding="utf-8")
    done = migguard("scan-app", "src", "--tables", "bookings", cwd=app)
    assert done.returncode == 2
    assert ".migguard-allow:3: bad allowlist entry" in one_error_line(done.stderr)


def test_json_output_shape(tmp_path):
    app = write_app(tmp_path)
    out = app / "report.json"
    done = migguard("scan-app", "src", "--tables", "bookings", "--format", "json", "--output", str(out), cwd=app)
    assert done.returncode == 1 and done.stdout == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert set(document) == {"version", "ok", "command", "findings", "summary"}
    assert document["version"] == 1 and document["ok"] is False and document["command"] == "scan-app"
    assert [(f["path"], f["line"], f["column"], f["rule"], f["severity"]) for f in document["findings"]] == [
        ("src/routes/a.ts", 1, 10, DELETE_RULE, "error"),
        ("src/routes/a.ts", 3, 11, SQL_RULE, "error"),
    ]
    keys = {"rule", "severity", "path", "line", "column", "end_line", "end_column", "statement", "message", "hint"}
    assert all(set(f) == keys and f["message"] and f["hint"] for f in document["findings"])
    assert document["summary"] | {"files": None} == {"files": None, "tables": 1, "errors": 2, "warnings": 0,
                                                       "infos": 0, "sql_queries": 2, "sql_unparsed": 0,
                                                       "allowlisted": 0, "tables_source": "options",
                                                       "tables_from": "--tables"}
    assert document["summary"]["files"] == 2  # node_modules is not scanned


def test_text_output_quotes_the_line_with_a_caret(tmp_path):
    app = write_app(tmp_path)
    done = migguard("scan-app", "src/routes/a.ts", "--tables", "bookings", cwd=app)
    assert "src/routes/a.ts:3:11: error[tenant-filter-missing]" in done.stdout
    assert " 3 | const q = 'SELECT * FROM bookings WHERE id = $1';\n   |           ^" in done.stdout


def test_schema_option_reads_a_snapshot(tmp_path):
    app = write_app(tmp_path)
    model = SchemaModel(tables={"public.bookings": Table(schema_name="public", name="bookings", columns={
        "tenant_id": Column(name="tenant_id", position=1, type="uuid")})})
    (app / "schema.json").write_text(model.to_json(), encoding="utf-8")
    assert migguard("scan-app", "src", "--schema", "schema.json", cwd=app).returncode == 1
    (app / "bad.json").write_text("{}x", encoding="utf-8")
    bad = migguard("scan-app", "src", "--schema", "bad.json", cwd=app)
    assert bad.returncode == 2 and "schema snapshot" in one_error_line(bad.stderr)
    missing = migguard("scan-app", "src", "--schema", "nope.json", cwd=app)
    assert missing.returncode == 2 and "nope.json" in one_error_line(missing.stderr)

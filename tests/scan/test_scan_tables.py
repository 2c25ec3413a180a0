"""Where scan-app's tenant tables come from (issue 11, item 8): --tables / --schema, then `[tool.migguard.scan]
tables`, then the migrations, then production's catalog when PG_PROD_URL is set; the report says which. A
project adopted on a database its migrations did not create scans against production's tables. The CLI runs in
process (tests/clirun.py); production is a real PostgreSQL database, and stays as it was (the catalog is only read)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from migguard.scan.tables import tables_from_production
from tests.clirun import Result, run_cli

# Each query leaves one table unscoped: which one is reported tells which source was used.
APP = ('Q1 = "SELECT * FROM invoices WHERE id = %s"\n'
       'Q2 = "SELECT * FROM customers WHERE id = %s"\n'
       'Q3 = "SELECT * FROM notes WHERE id = %s"\n')
NOTES = "CREATE TABLE notes (tenant_id uuid NOT NULL, id bigint PRIMARY KEY);\n"
PRODUCTION = """
CREATE TABLE invoices (tenant_id uuid NOT NULL, id bigint PRIMARY KEY, total numeric);
CREATE TABLE plans (id bigint PRIMARY KEY, name text);
CREATE SCHEMA billing;
CREATE TABLE billing.customers (tenant_id uuid NOT NULL, id bigint, PRIMARY KEY (tenant_id, id)) PARTITION BY LIST (tenant_id);
CREATE VIEW open_invoices AS SELECT tenant_id, id FROM invoices WHERE total > 0;
CREATE SCHEMA migguard;
CREATE TABLE migguard.schema_migrations (version text PRIMARY KEY, tenant_id uuid);
"""


def project(root: Path, config: str = "", migrations: dict[str, str] | None = None) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "db" / "migrations").mkdir(parents=True)
    for name, text in (migrations or {}).items():
        (root / "db" / "migrations" / name).write_text(text)
    (root / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\n' + config)
    return root


def scan(root: Path, *args: str, prod: str | None = None) -> Result:
    env = {k: v for k, v in os.environ.items() if k not in ("PG_PROD_URL", "PG_SHADOW_URL")}
    if prod:
        env["PG_PROD_URL"] = prod
    return run_cli(["scan-app", "src", "--format", "json", *args], cwd=root, env=env)


def flagged(done: subprocess.CompletedProcess[str]) -> tuple[str, set[str]]:
    """The report's tables source, and the tables it flagged."""
    report = json.loads(done.stdout)
    return report["summary"]["tables_source"], {f["message"].split()[2] for f in report["findings"]}


def test_options_then_config_then_migrations(tmp_path):
    root = project(tmp_path, '[tool.migguard.scan]\ntables = ["public.customers"]\n', {"0001_notes.sql": NOTES})
    done = scan(root, "--tables", "invoices")
    assert done.returncode == 1 and flagged(done) == ("options", {"invoices"})
    assert "tenant tables from options (--tables)" in done.stderr
    done = scan(root)
    assert done.returncode == 1 and flagged(done) == ("config", {"customers"})
    assert "tenant tables from config ([tool.migguard.scan] tables)" in done.stderr
    (root / "migguard.toml").write_text('[tool.migguard]\nmigrations = "db/migrations"\n')
    done = scan(root)
    assert done.returncode == 1 and flagged(done) == ("migrations", {"notes"})


@pytest.mark.parametrize("value, why", [("[]", "at least one table name"), ('["a b"]', "'a b'"),
                                        ('"invoices"', "tuple")])
def test_a_bad_config_list_is_a_config_error_naming_the_key(tmp_path, value, why):
    done = scan(project(tmp_path, f"[tool.migguard.scan]\ntables = {value}\n"), "--tables", "invoices")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr
    assert "invalid value for 'scan.tables'" in lines[0] and why in lines[0]
    assert done.stdout == ""


def test_without_any_source_it_says_what_to_do(tmp_path):
    done = scan(project(tmp_path))
    [line] = done.stderr.splitlines()
    assert done.returncode == 2
    assert "no monitored tables" in line and "PG_PROD_URL is not set" in line and "[tool.migguard.scan]" in line


@pytest.mark.pg
@pytest.mark.e2e
def test_production_catalog_when_the_migrations_create_no_tenant_table(tmp_path, pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(PRODUCTION)
        before = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
    root = project(tmp_path, migrations={"0001_plans.sql": "ALTER TABLE plans ADD COLUMN note text;\n"})
    url = pg.replace("postgresql://postgres@", "postgresql://postgres:S3cret-pw@")
    done = scan(root, prod=url)
    assert done.returncode == 1, done.stderr
    # invoices and billing.customers (a partitioned table in another schema); not the view's rows twice, not
    # plans (no tenant column), not migguard's own history.
    assert flagged(done) == ("production", {"invoices", "customers"})
    assert json.loads(done.stdout)["summary"]["tables"] == 3  # invoices, customers, open_invoices
    assert "tenant tables from production (postgresql://postgres:***@" in done.stderr
    assert "S3cret-pw" not in done.stdout + done.stderr
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM pg_class").fetchone()[0] == before
    # Configured tables still come first.
    (root / "migguard.toml").write_text('[tool.migguard]\n[tool.migguard.scan]\ntables = ["notes"]\n')
    done = scan(root, prod=url)
    assert flagged(done) == ("config", {"notes"})


@pytest.mark.pg
def test_production_without_a_tenant_table_is_still_no_monitored_tables(tmp_path, pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE plans (id bigint PRIMARY KEY)")
    assert tables_from_production(pg, "tenant_id", "migguard") == set()
    done = scan(project(tmp_path), prod=pg)
    [line] = done.stderr.splitlines()
    assert done.returncode == 2 and "production has no table with tenant_id" in line


@pytest.mark.pg
def test_production_tables_are_the_applications_only(pg):
    """pg.catalog's application schemas: an extension's member or schema, and migguard's own history, are
    not the application's tenant tables."""
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(PRODUCTION + """
            CREATE TABLE public.ext_member (id int, tenant_id uuid);
            ALTER EXTENSION plpgsql ADD TABLE public.ext_member;
            CREATE SCHEMA ext_owned;
            CREATE TABLE ext_owned.lookup (id int, tenant_id uuid);
            ALTER EXTENSION plpgsql ADD SCHEMA ext_owned;
            CREATE TABLE "Mixed" ("tenant_id" uuid);
        """)
    assert tables_from_production(pg, "tenant_id", "migguard") == {"invoices", "customers", "open_invoices", "Mixed"}

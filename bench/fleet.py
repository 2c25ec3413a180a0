"""Fleet scale on one machine: `plan --fleet` and a live `apply --fleet --parallel 8`, timed.

    python bench/fleet.py [--sizes 20,60,200] [--tenants 20,60,500] [--parallel 8] [--skip-tenants]

For each fleet size N: N databases on an ephemeral cluster (copies of three template databases
holding one, two or three of the project's migrations in migguard's history: three distinct
schema versions), every one a target named by an environment key; then one database holding T
tenant schemas (`tenant_schemas` pattern), each with the first migration applied in its own
history. Each command runs as a subprocess through the real CLI; the figures are wall time,
targets per second, and the peak RSS of the migguard process (os.wait4's ru_maxrss: the largest of
migguard and the pg_dump / pg_restore it ran; the PostgreSQL servers are not counted). The shadow is a second database server on the
same ephemeral cluster (PG_SHADOW_URL), as in the tests.

It asserts nothing. Not a timed test: on a loaded 2-CPU machine, use smaller sizes than the
issue's 200 databases / 500 tenants when a full run would take more than ten minutes (and say so).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migguard.core.sources import discover  # noqa: E402
from migguard.fleet.targets import tenant_history_table  # noqa: E402
from migguard.pg.cluster import Cluster, choose_binaries  # noqa: E402
from migguard.apply.runner import Runner  # noqa: E402
from migguard.pg.scope import tenant_schema  # noqa: E402

MIGRATIONS = {
    "0001_accounts.sql": "SET lock_timeout = '2s';\nCREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);\n",
    "0002_email.sql": "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN email text;\n",
    "0003_invoices.sql": ("SET lock_timeout = '2s';\nCREATE TABLE invoices (id bigint PRIMARY KEY, "
                          "account_id bigint NOT NULL REFERENCES accounts (id), total numeric NOT NULL);\n"
                          "CREATE INDEX invoices_account_idx ON invoices (account_id);\n"),
    "0004_notes.sql": "SET lock_timeout = '2s';\nCREATE TABLE notes (id bigint PRIMARY KEY, body text);\n",
}
HEAD = '[tool.migguard]\nmigrations = "db/migrations"\nlock_retries = 0\n\n'


def project(root: Path) -> list:
    (root / "db" / "migrations").mkdir(parents=True)
    for name, text in MIGRATIONS.items():
        (root / "db" / "migrations" / name).write_text(text)
    return discover(root / "db" / "migrations", "auto")


def run(root: Path, env: dict[str, str], *args: str) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak RSS (MiB) of `migguard *args`."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "migguard", "--quiet", *args], cwd=root,
                               env={**os.environ, **env, "PYTHONPATH": str(REPO)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"    (exit {code}: {process.stderr.read().decode()[-300:].strip()})")
    process.stderr.close()
    return seconds, code, usage.ru_maxrss // 1024


def report(what: str, targets: int, result: tuple[float, int, int]) -> None:
    seconds, code, rss = result
    print(f"  {what:<34} {targets:>4} targets  {seconds:7.1f} s  {targets / seconds:6.2f} targets/s  "
          f"peak RSS {rss} MiB  exit {code}")


def databases(cluster: Cluster, size: int, migrations: list, parallel: int, work: Path) -> None:
    """N databases in three schema versions: copies of templates holding 1, 2 or 3 migrations."""
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        for version in (1, 2, 3):
            admin.execute(f"DROP DATABASE IF EXISTS tpl{version}")
            admin.execute(f"CREATE DATABASE tpl{version}")
            Runner(cluster.url(f"tpl{version}"), "migguard.schema_migrations").run(migrations[:version])
        for index in range(size):
            admin.execute(f"CREATE DATABASE db{index:04d} TEMPLATE tpl{index % 3 + 1}")
    root = work / f"fleet-{size}"
    project(root)
    targets = "\n".join(f'db{i:04d} = "DB_{i:04d}"' for i in range(size))
    (root / "migguard.toml").write_text(HEAD + f'[tool.migguard.fleet]\ncanary = ["db0000"]\nwave_size = 50\n'
                                               f'parallel = {parallel}\n\n[tool.migguard.fleet.targets]\n{targets}\n')
    env = {"PG_SHADOW_URL": cluster.url(), **{f"DB_{i:04d}": cluster.url(f"db{i:04d}") for i in range(size)}}
    print(f"{size} databases (three schema versions), --parallel {parallel}:")
    report("plan --fleet", size, run(root, env, "plan", "--fleet", "--parallel", str(parallel)))
    report("apply --fleet --confirm-live", size,
           run(root, env, "apply", "--fleet", "--confirm-live", "--parallel", str(parallel), "--max-failures",
               str(size), "--plan", str(root / ".migguard" / "plans" / "fleet-plan.json")))
    report("apply --fleet again (all up to date)", size,
           run(root, env, "apply", "--fleet", "--confirm-live", "--parallel", str(parallel)))
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        for index in range(size):
            admin.execute(f"DROP DATABASE db{index:04d}")


def tenants(cluster: Cluster, count: int, migrations: list, parallel: int, work: Path) -> None:
    """One database with `count` tenant schemas, each with the first migration in its own history."""
    name = f"tenants{count}"
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        for index in range(count):
            conn.execute(f"CREATE SCHEMA tenant_{index:04d}")
    for index in range(count):
        schema = f"tenant_{index:04d}"
        with tenant_schema(schema):
            Runner(url, tenant_history_table("migguard.schema_migrations", schema)).run(migrations[:1])
    root = work / f"tenants-{count}"
    project(root)
    (root / "migguard.toml").write_text(HEAD + f'[tool.migguard.fleet]\nwave_size = 100\nparallel = {parallel}\n'
                                               'tenant_schemas = { url_env = "DB_TENANTS", pattern = "tenant\\\\_%" }\n')
    env = {"PG_SHADOW_URL": cluster.url(), "DB_TENANTS": url}
    print(f"one database with {count} tenant schemas, --parallel {parallel}:")
    report("plan --fleet", count, run(root, env, "plan", "--fleet", "--parallel", str(parallel)))
    report("apply --fleet --confirm-live", count,
           run(root, env, "apply", "--fleet", "--confirm-live", "--parallel", str(parallel), "--max-failures",
               str(count), "--backup", "affected"))
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20,60,200", help="fleet sizes in databases (default 20,60,200)")
    parser.add_argument("--tenants", default="20,60,500", help="tenant schema counts (default 20,60,500)")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--skip-tenants", action="store_true")
    args = parser.parse_args()
    binaries = choose_binaries()
    work = Path(tempfile.mkdtemp(prefix="migguard-bench-fleet-"))
    migrations = project(work / "source")
    print(f"PostgreSQL {binaries.major} ({binaries.source}); {os.cpu_count()} CPU(s); work in {work}")
    try:
        with Cluster(binaries) as cluster:
            for size in (int(s) for s in args.sizes.split(",") if s):
                databases(cluster, size, migrations, args.parallel, work)
            if not args.skip_tenants:
                for count in (int(s) for s in args.tenants.split(",") if s):
                    tenants(cluster, count, migrations, args.parallel, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

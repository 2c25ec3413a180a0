"""Start or stop the demo's embedded "production": a PostgreSQL cluster that migguard starts
itself, with the example store's first six migrations applied (and recorded in migguard's
history table) and a few tenants' rows. Its URL goes into vault/.env as PG_PROD_URL, where
migguard reads secrets from. Usage: python demo_production.py start|stop
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from migguard.core.sources import discover
from migguard.pg.cluster import Cluster, choose_binaries
from migguard.pg.history import AppliedMigration, ensure_table, record
from migguard.pg.shadow import apply_migration

HERE = Path(__file__).parent
STATE = HERE / ".migguard" / "demo-production.json"
ENV_FILE = HERE / "vault" / ".env"
APPLIED = 6

SEED = """
INSERT INTO tenants (id, slug, name) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'acme', 'Acme Spa'),
    ('00000000-0000-0000-0000-0000000000b2', 'bolt', 'Bolt Fitness');
INSERT INTO users (tenant_id, email, full_name)
SELECT t.id, 'user' || g || '@' || t.slug || '.test', 'User ' || g FROM tenants t, generate_series(1, 50) g;
INSERT INTO services (tenant_id, name, duration_min, price_cents)
SELECT t.id, 'Service ' || g, 30 + g, 1000 * g FROM tenants t, generate_series(1, 5) g;
INSERT INTO bookings (tenant_id, service_id, customer_id, starts_at)
SELECT u.tenant_id, (SELECT min(s.id) FROM services s WHERE s.tenant_id = u.tenant_id), u.id, now() + u.id * interval '1 hour'
FROM users u;
INSERT INTO invoices (tenant_id, booking_id, number, amount_cents, legacy_ref)
SELECT b.tenant_id, b.id, 'INV-' || b.id, 4200, 'legacy-' || b.id FROM bookings b;
"""


def start() -> None:
    stop(quiet=True)  # a demo interrupted earlier may have left its server running
    key = hashlib.sha256(str(HERE.resolve()).encode()).hexdigest()[:12]
    cluster = Cluster(choose_binaries(), Path(tempfile.gettempdir()) / f"migguard-demo-prod-{key}", keep=True)
    cluster.directory.mkdir(parents=True, exist_ok=True)
    cluster.start()
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS store WITH (FORCE)")
        admin.execute("CREATE DATABASE store")
    url = cluster.url("store")
    migrations = discover(HERE / "db" / "migrations")
    with psycopg.connect(url, autocommit=True) as conn:
        for migration in migrations[:APPLIED]:
            apply_migration(conn, migration)
        with conn.transaction():
            ensure_table(conn, "migguard.schema_migrations")
            for migration in migrations[:APPLIED]:
                record(conn, "migguard.schema_migrations", AppliedMigration(
                    migration.version, migration.name, migration.checksum(), None, "demo",
                    datetime.now(timezone.utc), 0))
            conn.execute(SEED)
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps({"directory": str(cluster.directory), "bin_dir": str(cluster.binaries.bin_dir),
                                 "major": cluster.binaries.major}))
    ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
    ENV_FILE.write_text(f"PG_PROD_URL={url}\n")
    print(f"demo production: PostgreSQL {cluster.binaries.major}, {APPLIED} migrations applied, 2 tenants seeded")


def stop(quiet: bool = False) -> None:
    if STATE.exists():
        state = json.loads(STATE.read_text())
        binaries = choose_binaries(state["major"])
        Cluster(binaries, Path(state["directory"])).stop(remove=True)
        STATE.unlink()
    ENV_FILE.unlink(missing_ok=True)
    if not quiet:
        print("demo production: stopped and removed")


if __name__ == "__main__":
    {"start": start, "stop": stop}[sys.argv[1] if len(sys.argv) > 1 else "start"]()

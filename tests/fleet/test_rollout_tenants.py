"""Schema-per-tenant targets through `apply --fleet` / `rollback --fleet` on real PostgreSQL: each
tenant's migrations run with its schema as search_path (unqualified names land there), each keeps
its own history table, two tenants of one database apply in parallel (their advisory lock keys
differ), and rolling back one tenant leaves the other as it is."""

import pytest

from migguard.apply.runner import advisory_key
from migguard.fleet.targets import tenant_history_table
from tests.apply.livekit import audit_entries, make_project, migguard, query

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_retries = 0

[tool.migguard.fleet]
wave_size = 5
parallel = 2
tenant_schemas = { url_env = "DB_TENANTS", pattern = "tenant\\\\_%" }
"""
ITEMS = """SET lock_timeout = '2s';
CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL);
INSERT INTO items VALUES (1, 1);
"""


def tenant_history(url: str, tenant: str) -> list[str]:
    table = tenant_history_table("migguard.schema_migrations", tenant)
    if query(url, "SELECT to_regclass(%s) IS NULL", (table,))[0][0]:
        return []
    return [r[0] for r in query(url, f"SELECT version FROM {table} ORDER BY version")]


def items_in(url: str) -> set[str]:
    return {r[0] for r in query(url, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'")}


def test_tenants_of_one_database_apply_into_their_own_schema_with_their_own_history(tmp_path, pg, pg_cluster):
    query(pg, 'CREATE SCHEMA tenant_1; CREATE SCHEMA tenant_2; CREATE SCHEMA "other"')
    project = make_project(tmp_path, CONFIG, "", pg_cluster.url(), {"0001_items.sql": ITEMS})
    project.env.pop("PG_PROD_URL")
    project.env["DB_TENANTS"] = pg
    assert advisory_key(tenant_history_table("migguard.schema_migrations", "tenant_1")) != advisory_key(
        tenant_history_table("migguard.schema_migrations", "tenant_2"))

    applied = migguard(project, "apply", "--fleet", "--confirm-live")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "2 target(s): 2 applied" in applied.stdout
    assert items_in(pg) == {"tenant_1", "tenant_2"}  # not public, not the schema the pattern does not match
    assert tenant_history(pg, "tenant_1") == tenant_history(pg, "tenant_2") == ["0001"]
    assert query(pg, "SELECT to_regclass('migguard.schema_migrations')")[0][0] is None
    audited = {e["target"].rsplit(" schema ", 1)[-1] for e in audit_entries(project, verified=True)
               if e["command"] == "apply" and e["result"] == "applied"}
    assert audited == {"tenant_1", "tenant_2"}  # the audit tells the tenants of one database apart

    again = migguard(project, "apply", "--fleet", "--confirm-live")
    assert again.returncode == 0 and "2 target(s): 2 up-to-date" in again.stdout, again.stderr

    back = migguard(project, "rollback", "--fleet", "--only", "tenant_1", "--confirm-live", "--no-backup",
                    "--allow-destructive")
    assert back.returncode == 0, back.stdout + back.stderr
    assert items_in(pg) == {"tenant_2"}
    assert tenant_history(pg, "tenant_1") == [] and tenant_history(pg, "tenant_2") == ["0001"]
    assert query(pg, "SELECT count(*) FROM tenant_2.items")[0][0] == 1


HOSTILE = ['tenant_a b', 'tenant_"q"', 'tenant_x"; DROP SCHEMA tenant_ok CASCADE; --', "tenant_O'Neil", "tenant_$1$"]


def test_hostile_tenant_schema_names_reach_sql_only_as_identifiers(tmp_path, pg, pg_cluster):
    """Schema names are data an attacker may choose (a tenant's sign-up): a space, quotes, dollars
    and a statement in a name land in search_path, the history table's name and the audit as one
    quoted identifier each, and nothing else runs. A name that cannot name a target (a backslash,
    which file names and libpq's options read) refuses the rollout before any target is touched."""
    from psycopg import sql

    project = make_project(tmp_path, CONFIG, "", pg_cluster.url(), {"0001_items.sql": ITEMS})
    project.env.pop("PG_PROD_URL")
    project.env["DB_TENANTS"] = pg
    for name in [*HOSTILE, "tenant_ok", "tenant_\\back"]:
        query(pg, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    refused = migguard(project, "apply", "--fleet", "--confirm-live", "--backup", "affected")
    assert refused.returncode == 2 and "cannot name a target" in refused.stderr, refused.stderr
    assert items_in(pg) == set()
    query(pg, sql.SQL("DROP SCHEMA {}").format(sql.Identifier("tenant_\\back")))

    applied = migguard(project, "apply", "--fleet", "--confirm-live", "--backup", "affected")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert items_in(pg) == {*HOSTILE, "tenant_ok"}
    for name in [*HOSTILE, "tenant_ok"]:
        assert tenant_history(pg, name) == ["0001"], name
        assert query(pg, sql.SQL("SELECT qty FROM {}.items").format(sql.Identifier(name))) == [(1,)]
    audited = {e["target"].rsplit(" schema ", 1)[-1] for e in audit_entries(project, verified=True)
               if e["command"] == "apply" and e["result"] == "applied"}
    assert audited == {*HOSTILE, "tenant_ok"}

    hostile = HOSTILE[2]
    back = migguard(project, "rollback", "--fleet", "--only", hostile, "--confirm-live", "--no-backup",
                    "--allow-destructive")
    assert back.returncode == 0, back.stdout + back.stderr
    assert items_in(pg) == {*HOSTILE, "tenant_ok"} - {hostile}
    assert tenant_history(pg, hostile) == [] and tenant_history(pg, "tenant_ok") == ["0001"]

"""A stand-in production for one tenant schema, so the single-target plan can prove it unchanged.

A tenant's migrations run with `search_path` set to its schema, and its history lives in its own
table. The single-target plan replays the history into `public` of a fresh database and compares
it with production, so it cannot read a tenant in place. The stand-in is that tenant as its own
database, on the shadow server: production's schema is cloned (pg_dump --schema-only), every
other schema dropped, the tenant's schema renamed `public` (with the owner and privileges a fresh
database's `public` has), and the tenant's history rows copied into the configured history table.
`run_plan` then plans the stand-in as it plans any production: lint, replay, drift, apply on a
clone, RLS, verified rollback. Production is only read.

What the stand-in does not hold: other schemas (a tenant migration that uses shared objects in
another schema fails its proof, loudly), and rows: the data pre-checks run on each tenant's real
rows instead, with the proof's change set written back in the tenant's schema (`in_tenant`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
from psycopg import sql

from migguard.core.config import Config
from migguard.core.errors import DatabaseError
from migguard.core.identifiers import object_key, parse_qualified, quote_qualified
from migguard.fleet.targets import Target
from migguard.pg.connect import connect, describe
from migguard.pg.history import ensure_table, read_applied, record
from migguard.pg.shadow import ShadowServer
from migguard.schema.diff import Change
from migguard.schema.model import SchemaModel

STAND_IN_PREFIX = "fleetproof_"  # not migguard_: the plan refuses production on a scratch database


@contextmanager
def tenant_stand_in(config: Config, target: Target, shadow_url: str | None) -> Iterator[tuple[str, str]]:
    """(stand-in URL, shadow URL) while the block runs; the stand-in is dropped afterwards."""
    assert target.schema is not None
    with ShadowServer(shadow_url, Path(config.root) / ".migguard", production=target.url) as shadow:
        assert shadow.url is not None
        name = shadow.create_database(f"{STAND_IN_PREFIX}{uuid.uuid4().hex[:12]}")
        try:
            shadow.clone_schema(target.url, name)
            with connect(target.url) as prod:
                rows = read_applied(prod, target.history_table(config))
                prod.rollback()
            public_owner, public_grants = _fresh_public(shadow)
            url = shadow.database_url(name)
            with connect(url, autocommit=True) as conn:
                try:
                    with conn.transaction():
                        _keep_only(conn, target.schema)
                        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO public").format(sql.Identifier(target.schema)))
                        _reset_public(conn, public_owner, public_grants)
                        ensure_table(conn, config.history_table)
                        for row in rows:
                            record(conn, config.history_table, row)
                except psycopg.Error as error:
                    raise DatabaseError(f"cannot build the stand-in of tenant {target.name} on the shadow: "
                                        f"{describe(error)}") from None
            yield url, shadow.url
        finally:
            shadow.drop_database(name)


def _keep_only(conn: psycopg.Connection, schema: str) -> None:
    """Drop every user schema but the tenant's (other tenants, shared ones, migguard's)."""
    others = [row[0] for row in conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'"
        " AND nspname <> %s", (schema,)).fetchall()]
    for other in others:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(other)))


def _fresh_public(shadow: ShadowServer) -> tuple[str, list[tuple[str | None, str]]]:
    """The owner of `public` in a fresh database of the shadow's major, and its grants
    ((grantee or None for PUBLIC, privilege)), which the replay's `public` has too."""
    reference = shadow.create_database()
    try:
        with connect(shadow.database_url(reference)) as conn:
            owner, = conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'").fetchone()
            grants = conn.execute(
                "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.privilege_type"
                " FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a"
                " WHERE n.nspname = 'public' AND a.grantee <> n.nspowner").fetchall()
    finally:
        shadow.drop_database(reference)
    return owner, [(grantee, privilege) for grantee, privilege in grants]


def _reset_public(conn: psycopg.Connection, owner: str, grants: list[tuple[str | None, str]]) -> None:
    """The renamed tenant schema gets the owner and grants of a fresh `public`, as the replay has."""
    def role(name: str | None) -> sql.Composable:
        return sql.SQL("PUBLIC") if name is None else sql.Identifier(name)

    granted = conn.execute(
        "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END"
        " FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' AND a.grantee <> n.nspowner").fetchall()
    for (grantee,) in granted:
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(role(grantee)))
    conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    for grantee, privilege in grants:
        if privilege in ("USAGE", "CREATE"):  # the only privileges a schema has
            conn.execute(sql.SQL("GRANT {} ON SCHEMA public TO {}").format(sql.SQL(privilege), role(grantee)))


STAND_IN_SCHEMA = "public"


def in_tenant(changes: list[Change], before: SchemaModel, after: SchemaModel,
              schema: str) -> tuple[list[Change], SchemaModel, SchemaModel]:
    """The stand-in's change set and tables with `public` written as the tenant's schema: what the
    data pre-checks read (change paths, tables, a foreign key's target) to query the tenant's rows."""
    def change_in_tenant(change: Change) -> Change:
        if not change.path or change.path[0] != STAND_IN_SCHEMA:
            return change
        path = (schema, *change.path[1:])
        return replace(change, path=path, object=object_key(*path))

    return [change_in_tenant(c) for c in changes], _tables_in_tenant(before, schema), _tables_in_tenant(after, schema)


def _tables_in_tenant(model: SchemaModel, schema: str) -> SchemaModel:
    tables = {}
    for key, table in model.tables.items():
        if table.schema_name != STAND_IN_SCHEMA:
            tables[key] = table
            continue
        constraints = {name: constraint.model_copy(update={"references": _reference_in_tenant(constraint.references, schema)})
                       for name, constraint in table.constraints.items()}
        tables[object_key(schema, table.name)] = table.model_copy(update={"schema_name": schema,
                                                                          "constraints": constraints})
    return model.model_copy(update={"tables": tables})


def _reference_in_tenant(references: str | None, schema: str) -> str | None:
    if references is None:
        return None
    try:
        referenced_schema, name = parse_qualified(references, 2)
    except ValueError:
        return references
    return quote_qualified(schema, name) if referenced_schema == STAND_IN_SCHEMA else references

"""The proof of a baseline: replayed on an empty database, it reproduces production's schema.

Both sides are read by the same server: the baseline is replayed into one scratch database of the
shadow, production's schema is restored into a second one (`ShadowServer.clone_schema`), and the
two introspected models are compared, migguard's own schema left out. So deparsing that differs
between PostgreSQL majors (view definitions, defaults) never shows as a difference.

Ownership: the baseline creates objects as the role that runs it, while the restored copy keeps
production's owners. The role migguard connects to production as stands for the connecting role
(`SchemaModel.also_read_as`, as drift's clone does), so an object it owns compares equal to one the
replay created; an object owned by any other role is a difference (the baseline does not set
owners), shown like every other one.
"""

from __future__ import annotations

from dataclasses import dataclass

from migguard.core.sources import Migration
from migguard.pg.connect import connect
from migguard.pg.introspect import introspect
from migguard.pg.shadow import MigrationFailed, ShadowServer
from migguard.schema.diff import Change, diff
from migguard.schema.model import SchemaModel


@dataclass
class Proof:
    production: SchemaModel  # as restored on the shadow, production's role standing for the connecting one
    differences: list[Change]  # what the replayed baseline lacks or has more than production
    replay_error: str | None = None  # the baseline failed on the empty database

    @property
    def ok(self) -> bool:
        return self.replay_error is None and not self.differences


def prove(shadow: ShadowServer, baseline: Migration, prod_url: str, own_schema: str) -> Proof:
    """Replay `baseline` on an empty shadow database, restore production's schema into another,
    and compare the two (the scratch databases are dropped afterwards)."""
    created: list[str] = []
    try:
        clone = shadow.create_database()
        created.append(clone)
        shadow.clone_schema(prod_url, clone)
        with connect(prod_url) as conn:
            prod_role = conn.execute("SELECT current_user").fetchone()[0]
            conn.rollback()
        production = introspect(shadow.database_url(clone)).without_schemas(own_schema).also_read_as(prod_role)
        try:
            replay = shadow.replay([baseline], use_templates=False)
        except MigrationFailed as failure:
            return Proof(production, [], failure.message)
        created.append(replay)
        replayed = introspect(shadow.database_url(replay)).without_schemas(own_schema)
        return Proof(production, diff(replayed, production))
    finally:
        for database in created:
            shadow.drop_database(database)


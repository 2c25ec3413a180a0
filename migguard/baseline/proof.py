"""The proof of a baseline: replayed on an empty database, it reproduces production's schema.

Both sides are read by the same server: the baseline is replayed into one scratch database of the
shadow, production's schema is restored into a second one (`ShadowServer.clone_schema`), and the
two introspected models are compared, migguard's own schema left out. So deparsing that differs
between PostgreSQL majors (view definitions, defaults) never shows as a difference.

Ownership: the baseline creates objects as the role that runs it, while the restored copy keeps
production's owners. An object owned by the role migguard connects to production as is compared as
owned by the role that replayed the baseline; an object owned by any other role is a difference
(the baseline does not set owners), shown like every other one.
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
    production: SchemaModel  # as restored on the shadow, owners mapped (see the module docstring)
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
        with connect(shadow.database_url(clone)) as conn:
            shadow_role = conn.execute("SELECT current_user").fetchone()[0]
            conn.rollback()
        production = owned_as(introspect(shadow.database_url(clone)).without_schemas(own_schema),
                              prod_role, shadow_role)
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


def owned_as(model: SchemaModel, role: str, replacement: str) -> SchemaModel:
    """`model` with every object (and schema) that `role` owns owned by `replacement` instead."""
    if role == replacement:
        return model

    def swap(objects: dict) -> dict:
        return {key: obj.model_copy(update={"owner": replacement}) if obj.owner == role else obj
                for key, obj in objects.items()}

    return model.model_copy(update={
        "schemas": {name: replacement if owner == role else owner for name, owner in model.schemas.items()},
        "tables": swap(model.tables), "views": swap(model.views), "functions": swap(model.functions)})

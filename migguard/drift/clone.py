"""Production's schema as the shadow server reads it, so drift compares like with like.

Drift and apply's verification compare production with models made on the shadow (the replayed
history, the plan's schema-after). Some of what introspection reads is deparsed by the server
that holds the object (a view's `pg_get_viewdef`, a default's or a policy's expression) and differs
between majors, so production is never introspected on its own server for these comparisons:
its schema (`pg_dump --schema-only`) is restored into a scratch database on the shadow and read
there (SPEC 5 steps 3-4). `plan` has that clone already (step 3); `status` and apply's
verification make one here.
"""

from __future__ import annotations

from migguard.drift.replay import check_extensions
from migguard.pg.connect import connect
from migguard.pg.introspect import introspect
from migguard.pg.shadow import ShadowServer
from migguard.schema.model import SchemaModel


def production_on_shadow(shadow: ShadowServer, prod_url: str, own: str) -> SchemaModel:
    """Production's schema, without migguard's own schema `own`, restored on `shadow` and read there;
    an extension production has and the shadow lacks raises ShadowRefused (extension-unavailable)."""
    check_extensions(shadow, prod_url)
    with connect(prod_url, autocommit=True) as conn:
        role = conn.execute("SELECT current_user").fetchone()[0]
    database = shadow.create_database()
    try:
        shadow.clone_schema(prod_url, database)
        # the clone keeps production's owner names: the role migguard connects to production as
        # stands for the connecting role there too (SPEC 5.4, `SchemaModel.also_read_as`)
        return introspect(shadow.database_url(database)).without_schemas(own).also_read_as(role)
    finally:
        shadow.drop_database(database)

"""introspect records the role it read as, not the last grantee of the last relation it read (a
loop over grants once reused the name): a table granted to another role must not make that role
stand for the connecting one, or every table the connecting role owns reads as owner drift."""

import psycopg
import pytest

from migguard.pg.introspect import introspect

pytestmark = pytest.mark.pg


def test_a_granted_table_leaves_the_connecting_role_as_it_is(pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE app_user NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute("CREATE TABLE notes (id int); GRANT SELECT ON notes TO app_user")
        role = conn.execute("SELECT current_user").fetchone()[0]
    model = introspect(pg)
    assert model.tables["public.notes"].grants == {"app_user": ("SELECT",)}
    assert model.connecting_roles == (role,)

"""The isolation probe run as a role that is itself subject to row-level security (a shadow run as
the tables' owner under FORCE RLS, not a superuser) says so and probes nothing, instead of
reporting leaks from its own policy-filtered counts (issue 11 item 5). Real PostgreSQL."""

import psycopg
import pytest

from migguard.rls.probe import probe

pytestmark = pytest.mark.pg

ITEMS = """
CREATE TABLE items (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, body text,
                    PRIMARY KEY (tenant_id, id));
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON items USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO app_user;
"""


@pytest.fixture
def owner(pg):
    """(superuser URL, owner's URL, owner's name): items (isolated correctly) owned by a LOGIN role
    that is a member of app_user, as a shadow run by the owner needs to act as it."""
    with psycopg.connect(pg, autocommit=True) as admin:
        name = "probe_" + admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute("DO $$ BEGIN CREATE ROLE app_user NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        admin.execute(f"CREATE ROLE {name} LOGIN; GRANT app_user TO {name}; GRANT CREATE ON SCHEMA public TO {name}")
    url = pg.replace("postgresql://postgres@", f"postgresql://{name}@")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ITEMS)
    return pg, url, name


def test_a_probe_role_subject_to_rls_probes_nothing_and_says_why(owner):
    _admin, url, name = owner
    result = probe(url)
    assert [(f.rule, f.severity, f.path) for f in result.findings] == [("rls-probe-skipped", "info", f"db:role:{name}")]
    assert "subject to row-level security (not a superuser, no BYPASSRLS)" in result.findings[0].message
    assert result.tables == ("public.items",)


def test_with_bypassrls_the_same_role_probes_and_finds_no_leak(owner):
    admin, url, name = owner
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {name} BYPASSRLS")
    result = probe(url)
    assert not [f for f in result.findings if f.rule.endswith("-leak") or f.rule == "rls-probe-skipped"], \
        [f.message for f in result.findings]
    with psycopg.connect(admin) as conn:  # rolled back: the probe leaves no row behind
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0

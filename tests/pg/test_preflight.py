"""The preflight names each privilege production does not grant the connecting role, one line
each, reading only the catalog (issue 11 item 5). Real PostgreSQL, roles made per test."""

import psycopg
import pytest

from migguard.pg.preflight import Needs, PreflightRefused, check, own_tables, require
from tests.apply.livekit import scalar

pytestmark = pytest.mark.pg

HISTORY = own_tables("migguard.schema_migrations", "audit_head")


@pytest.fixture
def role(pg):
    """A LOGIN role (no superuser, no BYPASSRLS) owning public.mine (FORCE RLS, a row) and with
    SELECT on public.theirs (RLS, not owned); secret.hidden is in a schema it has no USAGE on.
    Returns (its URL, its name)."""
    with psycopg.connect(pg, autocommit=True) as admin:
        name = "pf_" + admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f'CREATE ROLE "{name}" LOGIN')
        admin.execute(f"""
            CREATE TABLE public.mine (tenant_id int NOT NULL, id int PRIMARY KEY);
            ALTER TABLE public.mine OWNER TO "{name}";
            ALTER TABLE public.mine ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.mine FORCE ROW LEVEL SECURITY;
            CREATE POLICY p ON public.mine USING (tenant_id = current_setting('app.tenant_id')::int);
            INSERT INTO public.mine VALUES (1, 1);
            CREATE TABLE public.theirs (id int PRIMARY KEY);
            ALTER TABLE public.theirs ENABLE ROW LEVEL SECURITY;
            GRANT SELECT ON public.theirs TO "{name}";
            CREATE SCHEMA secret;
            CREATE TABLE secret.hidden (id int);
            CREATE SEQUENCE public.counter;
        """)
    return pg.replace("postgresql://postgres@", f"postgresql://{name}@"), name


def lines(url: str, needs: Needs) -> list[str]:
    with psycopg.connect(url) as conn:
        return check(conn, needs)[1]


def test_a_superuser_lacks_nothing(pg):
    assert lines(pg, Needs(history=HISTORY, backup="full", writes=True, altered=(("public", "x"),))) == []


def test_plan_reads_need_usage_and_select_on_every_table(role):
    url, name = role
    step = "pg_dump --schema-only (plan's copy of production's schema)"
    # mine it owns, theirs is granted; plan's own reads take no row, so no BYPASSRLS line
    assert lines(url, Needs(history=HISTORY)) == [
        f'USAGE on schema secret: {step} locks every table in it (GRANT USAGE ON SCHEMA … TO {name})',
        f"SELECT on secret.hidden: {step} locks every table it dumps (GRANT SELECT ON … TO {name})",
    ]


def test_the_backup_needs_bypassrls_for_forced_or_foreign_rls_tables(role, pg):
    url, name = role
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f'GRANT USAGE ON SCHEMA secret TO "{name}"; GRANT SELECT ON secret.hidden TO "{name}"')
    found = lines(url, Needs(history=HISTORY, backup="full"))
    assert [line.split(":")[0] for line in found] == ["SELECT on sequence public.counter", "BYPASSRLS"]
    assert "public.mine, public.theirs under row-level security" in found[1]
    assert "query would be affected by row-level security policy" in found[1]
    assert f"ALTER ROLE {name} BYPASSRLS" in found[1]
    # only the affected table, which the role owns under FORCE: still BYPASSRLS; not forced: nothing
    affected = Needs(history=HISTORY, schema_dump=False, backup="affected", backup_tables=(("public", "mine"),))
    assert [line.split(":")[0] for line in lines(url, affected)] == ["BYPASSRLS"]
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute("ALTER TABLE public.mine NO FORCE ROW LEVEL SECURITY")
    assert lines(url, affected) == []
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f'ALTER ROLE "{name}" BYPASSRLS; GRANT SELECT ON public.counter TO "{name}"')
    assert lines(url, Needs(history=HISTORY, backup="full")) == []


def test_apply_writes_need_create_ownership_and_history_privileges(role, pg):
    url, name = role
    needs = Needs(history=HISTORY, schema_dump=False, writes=True,
                  altered=(("public", "mine"), ("public", "theirs")), creates_in=("public",))
    found = lines(url, needs)
    database = scalar(pg, "SELECT current_database()")
    assert [line.split(":")[0] for line in found] == [
        f"CREATE on database {database}", "ownership of public.theirs", "CREATE on schema public"]
    assert "CREATE SCHEMA IF NOT EXISTS migguard" in found[0]
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f"""DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO "{name}"', current_database());
                          END $$""")
        admin.execute("CREATE SCHEMA migguard; CREATE TABLE migguard.schema_migrations (version text)")
    found = lines(url, needs)
    assert [line.split(":")[0] for line in found] == [
        "USAGE on schema migguard", "CREATE on schema migguard",
        "SELECT, INSERT, UPDATE, DELETE on migguard.schema_migrations",
        "ownership of public.theirs", "CREATE on schema public"]
    assert "migguard.schema_migrations_progress, migguard.audit_head" in found[1]


def test_require_raises_one_error_naming_the_role_with_a_line_per_privilege(role):
    url, name = role
    with pytest.raises(PreflightRefused) as refused:
        require(url, Needs(history=HISTORY), "what plan needs")
    assert refused.value.exit_code == 3
    assert refused.value.message == (f"production refuses what plan needs: role {name} lacks 2 privileges (one line "
                                      "each below); nothing was touched")
    assert refused.value.detail.splitlines() == list(refused.value.missing)


def test_status_needs_only_to_read_the_history(role, pg):
    url, name = role
    status = Needs(history=HISTORY, schema_dump=False)
    assert lines(url, status) == []  # no history yet; secret.hidden is not status's business
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA migguard; GRANT USAGE ON SCHEMA migguard TO {name}; "
                      "CREATE TABLE migguard.schema_migrations (version text)")
    assert lines(url, status) == [(f"SELECT on migguard.schema_migrations: plan, status and apply read migguard's "
                                   f"history there (GRANT SELECT ON … TO {name})")]

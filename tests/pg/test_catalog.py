"""The one definition of the application's schemas (pg/catalog.py), and every catalog reader
honouring it, on a real PostgreSQL: system and temporary schemas, an extension's schema and an
extension's member table are never the application's; migguard's schema is left out on request."""

import psycopg
import pytest

from migguard.pg.catalog import CatalogReader
from migguard.pg.connect import read_only_snapshot
from migguard.pg.introspect import introspect
from migguard.plan.trace import Tracer, table_sizes
from migguard.rls.audit import read_catalog
from migguard.rls.rowgen import read_schema

pytestmark = pytest.mark.pg

# plpgsql is installed in every database: ALTER EXTENSION … ADD makes its members without
# needing an extension's files on the server.
SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, tenant_id int NOT NULL);
CREATE TABLE public.notes (id int, tenant_id int);
CREATE VIEW app.order_ids AS SELECT id, tenant_id FROM app.orders;
CREATE TABLE public.ext_member (id int, tenant_id int);
ALTER EXTENSION plpgsql ADD TABLE public.ext_member;
CREATE VIEW public.ext_view AS SELECT id, tenant_id FROM public.ext_member;
ALTER EXTENSION plpgsql ADD VIEW public.ext_view;
CREATE SCHEMA ext_owned;
CREATE TABLE ext_owned.lookup (id int, tenant_id int);
ALTER EXTENSION plpgsql ADD SCHEMA ext_owned;
CREATE SCHEMA migguard;
CREATE TABLE migguard.schema_migrations (version text PRIMARY KEY, tenant_id int);
"""
APP_TABLES = {"app.orders", "public.notes"}
OWN_TABLES = {"migguard.schema_migrations"}


@pytest.fixture
def conn(pg):
    with psycopg.connect(pg, autocommit=True) as setup:
        setup.execute(SCHEMA)
    with psycopg.connect(pg) as conn:
        conn.execute("CREATE TEMP TABLE scratch (id int, tenant_id int)")  # this session's pg_temp_N
        conn.commit()
        yield conn


def _names(conn, oids):
    return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE oid = ANY(%s)", (oids,))}


def test_the_application_schemas(conn):
    assert _names(conn, CatalogReader(conn).app_schemas) == {"app", "public", "migguard"}
    assert _names(conn, CatalogReader(conn, exclude_schemas=["migguard"]).app_schemas) == {"app", "public"}
    conn.execute('CREATE SCHEMA "Mixed.Case"')
    assert "Mixed.Case" in _names(conn, CatalogReader(conn, exclude_schemas=["migguard"]).app_schemas)
    assert _names(conn, CatalogReader(conn, exclude_schemas=["Mixed.Case", "migguard"]).app_schemas) \
        == {"app", "public"}


def test_introspection_reads_only_the_application(conn, pg):
    model = introspect(conn)
    assert {f"{t.schema_name}.{t.name}" for t in model.tables.values()} == APP_TABLES | OWN_TABLES
    assert {f"{v.schema_name}.{v.name}" for v in model.views.values()} == {"app.order_ids"}
    assert set(model.schemas) == {"app", "public", "migguard"}
    # Excluding migguard's schema in the query gives what without_schemas() gives after it.
    excluded = introspect(pg, exclude_schemas=("migguard",))
    assert excluded == introspect(pg).without_schemas("migguard")
    assert {f"{t.schema_name}.{t.name}" for t in excluded.tables.values()} == APP_TABLES


def test_rls_catalog_reads_only_the_application(conn):
    with read_only_snapshot(conn):
        catalog = read_catalog(conn, tenant_column="tenant_id", app_roles=["nobody"],
                               exempt_tables=["ext_owned.lookup", "public.ext_member"])
    assert {t.qualified for t in catalog.tables.values()} == APP_TABLES | OWN_TABLES
    assert {f"{v['schema_name']}.{v['name']}" for v in catalog.views} == {"app.order_ids"}
    # An exemption may name any relation of the application's schemas (an extension's member in
    # public is harmless to exempt); a schema that is not the application's holds nothing to exempt.
    assert catalog.exempt == ["public.ext_member"] and catalog.unknown_exemptions == ["ext_owned.lookup"]


def test_row_generator_reads_only_the_application(conn):
    schema = read_schema(conn)
    assert {r.qualified for r in schema.relations.values()} == APP_TABLES | OWN_TABLES
    assert [c.name for c in next(r for r in schema.relations.values() if r.qualified == "app.orders").columns] \
        == ["id", "tenant_id"]


def test_table_sizes_and_trace_read_only_the_application(conn):
    conn.execute("INSERT INTO app.orders SELECT g, 1 FROM generate_series(1, 50) g")
    conn.commit()
    conn.execute("ANALYZE app.orders")
    sizes = table_sizes(conn)
    assert set(sizes) == APP_TABLES | OWN_TABLES
    assert sizes["app.orders"].rows == 50 and sizes["app.orders"].bytes > 0
    assert set(table_sizes(conn, exclude_schemas=("migguard",))) == APP_TABLES
    conn.rollback()

    tracer = Tracer("V1")
    tracer.before(conn)
    statement = "LOCK TABLE app.orders, public.ext_member, ext_owned.lookup, scratch IN ACCESS EXCLUSIVE MODE"
    conn.execute(statement)
    tracer.after_statement(conn, 0, statement)
    conn.execute("TRUNCATE public.notes, public.ext_member")  # a new storage file for each
    tracer.after_statement(conn, 1, "TRUNCATE")
    conn.rollback()
    assert tracer.traces[0].locks == {"app.orders": "AccessExclusiveLock"}
    assert tracer.traces[1].locks == {"public.notes": "AccessExclusiveLock"}
    assert tracer.traces[1].rewritten == ["public.notes"]


def test_queries_sent_ahead_give_the_same_rows_and_leave_the_snapshot_usable(pg):
    """`CatalogReader.sending_ahead`: a query sent ahead gives the rows it gives run alone (as dicts
    or tuples), one asked for with other parameters runs afresh, one never asked for is discarded,
    and a failing query raises its own error to whoever asks for it (not the aborted transaction's
    of the queries after it), leaving the connection usable once the snapshot is rolled back."""
    from migguard.pg import catalog as q

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(SCHEMA)
    with psycopg.connect(pg) as conn, read_only_snapshot(conn):
        reader = CatalogReader(conn)
        alone = (reader.rows(q.SCHEMA_RELATIONS_SQL), reader.tuples(q.SCHEMA_COLUMNS_SQL),
                 reader.rows(q.SCHEMA_INDEXES_SQL, only_oids=[0]))
        with reader.sending_ahead([q.SCHEMA_RELATIONS_SQL, q.SCHEMA_COLUMNS_SQL, q.SCHEMA_INDEXES_SQL,
                                   q.SCHEMA_POLICIES_SQL]):
            ahead = (reader.rows(q.SCHEMA_RELATIONS_SQL), reader.tuples(q.SCHEMA_COLUMNS_SQL),
                     reader.rows(q.SCHEMA_INDEXES_SQL, only_oids=[0]))
        assert ahead == alone and len(alone[0]) >= 3 and alone[2] == []
        assert reader.rows(q.SCHEMA_POLICIES_SQL) == []  # after the block: run as usual
        with pytest.raises(psycopg.errors.UndefinedTable):
            with reader.sending_ahead([q.SCHEMA_POLICIES_SQL, "SELECT * FROM no_such_table", q.SCHEMA_RELATIONS_SQL]):
                assert reader.rows(q.SCHEMA_POLICIES_SQL) == []
                reader.rows("SELECT * FROM no_such_table")
    with psycopg.connect(pg) as conn, read_only_snapshot(conn):
        assert len(CatalogReader(conn).rows(q.SCHEMA_RELATIONS_SQL)) == len(alone[0])


def test_a_query_not_sent_ahead_runs_before_those_still_waiting_and_a_failure_is_told_by_its_cause(pg):
    """Inside `sending_ahead`, a query the caller needs that was not sent (here: one of its own) waits
    only for the query running now, not for the whole queue; after a failed query, a later one asked
    for first raises the failure's own error, not "current transaction is aborted"."""
    slow, first, second = ("SELECT pg_sleep(0.3), clock_timestamp()", "SELECT 1, clock_timestamp()",
                           "SELECT 2, clock_timestamp()")
    with psycopg.connect(pg) as conn, read_only_snapshot(conn):
        reader = CatalogReader(conn)
        with reader.sending_ahead([slow, first, second]):
            (_, asked_at), = reader.tuples("SELECT 3, clock_timestamp()")
            (_, first_at), = reader.tuples(first)
            (_, second_at), = reader.tuples(second)
        assert asked_at < first_at < second_at
    with psycopg.connect(pg) as conn, read_only_snapshot(conn):
        reader = CatalogReader(conn)
        with pytest.raises(psycopg.errors.UndefinedTable):
            with reader.sending_ahead(["SELECT * FROM no_such_table", first]):
                reader.tuples(first)


def test_catalog_snapshots_run_without_jit_and_leave_the_session_as_it_was(pg):
    """The catalog's join estimates can pass jit_above_cost by far (the row versions query: 2.2 s of
    compiling for 20 ms of work at 1,000 tables): a snapshot switches JIT off for itself only."""
    from migguard.pg.introspect import catalog_snapshot

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("SET jit = on")
        with catalog_snapshot(conn):
            assert conn.execute("SHOW jit").fetchone()[0] == "off"
        assert conn.execute("SHOW jit").fetchone()[0] == "on"


def test_generic_plans_are_asked_for_by_query_and_end_with_the_next_other_query_and_the_snapshot(pg):
    """`tuples(generic=True)` runs on a plan made once; the next query not asking for it, and every
    query after the snapshot, runs as the session chose (here: force_custom_plan, to tell it apart)."""
    from migguard.pg.introspect import catalog_snapshot

    mode = "SELECT current_setting('plan_cache_mode')"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_custom_plan")
        with catalog_snapshot(conn, pipelined=True) as reader:
            assert reader.tuples(mode, generic=True) == [("force_generic_plan",)]
            assert reader.tuples(mode, generic=True) == [("force_generic_plan",)]
            assert reader.tuples(mode) == [("force_custom_plan",)]
            assert reader.tuples(mode, generic=True) == [("force_generic_plan",)]
            assert reader.rows(mode) == [{"current_setting": "force_custom_plan"}]
            reader.tuples(mode, generic=True)
            assert next(reader.rows_many([(mode, {})])) == [{"current_setting": "force_custom_plan"}]
            reader.tuples(mode, generic=True)
        assert conn.execute(mode).fetchone()[0] == "force_custom_plan"


def test_the_reads_by_oids_give_the_rows_the_reads_of_everything_give_for_those_relations(conn):
    """`by_oids` drops "every relation when NULL" from the six relation reads, so that a plan made
    once looks the oids up by index (the incremental reader's): same rows for the oids asked."""
    from migguard.pg import catalog as q

    conn.execute("CREATE TABLE app.lines (id int PRIMARY KEY, order_id int REFERENCES app.orders (id) CHECK (id > 0), "
                 "note text DEFAULT 'x'); CREATE INDEX lines_note ON app.lines (note); "
                 "CREATE POLICY lines_all ON app.lines USING (true); COMMENT ON COLUMN app.lines.note IS 'n'")
    reader = CatalogReader(conn)
    oids = [oid for (oid,) in conn.execute("SELECT oid FROM pg_class WHERE relname IN ('lines', 'order_ids')")]
    for name in ("SCHEMA_COLUMNS_SQL", "SCHEMA_CONSTRAINTS_SQL", "SCHEMA_INDEXES_SQL", "SCHEMA_POLICIES_SQL",
                 "SCHEMA_TRIGGERS_SQL", "SCHEMA_RELATIONS_SQL"):
        query = getattr(q, name)
        narrowed = q.by_oids(query)
        assert narrowed != query and "%(only_oids)s::oid[] IS NULL" not in narrowed, name
        for generic in (False, True):
            assert (reader.tuples(narrowed, generic=generic, only_oids=oids)
                    == reader.tuples(query, only_oids=oids)), name
    assert reader.tuples(q.by_oids(q.SCHEMA_COLUMNS_SQL), only_oids=oids)  # the comparison compared rows
    conn.rollback()

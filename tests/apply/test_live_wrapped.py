"""A migration wrapped whole in `BEGIN; … COMMIT;` (issue 11, item 7), applied with the real CLI to a real
PostgreSQL: its body runs in migguard's transaction, so a failing last statement leaves nothing of it, and the
history records it once, with the checksum of the file's own bytes. The shadow replay runs it the same way."""

import psycopg
import pytest

from migguard.core.sources import checksum, discover
from migguard.pg.shadow import apply_migration
from tests.apply.livekit import applied_versions, columns, make_project, migguard, query, with_password, write

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

CONFIG = """[tool.migguard]
migrations = "db/migrations"
lock_timeout = "2s"
pg_version = 15
"""
KV = "-- the key-value table\nBEGIN;\nSET lock_timeout = '2s';\nCREATE TABLE kv (k text PRIMARY KEY, v text);\nCOMMIT;\n"
# Passes on the shadow (schema only, no rows), fails in production, where the key is taken: at the last statement.
NOTE = ("BEGIN;\nSET lock_timeout = '2s';\nALTER TABLE kv ADD COLUMN note text;\n"
        "INSERT INTO kv (k, v) VALUES ('taken', 'again');\nCOMMIT;\n")


@pytest.fixture
def project(tmp_path, pg, pg_cluster):
    return make_project(tmp_path, CONFIG, with_password(pg), pg_cluster.url(), {"0001_kv.sql": KV})


def history(url: str) -> list[tuple[str, str]]:
    return query(url, "SELECT version, checksum FROM migguard.schema_migrations ORDER BY version")


def test_a_wrapped_migration_is_atomic_and_recorded_once(project, pg):
    first = migguard(project, "apply", "--confirm-live")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "transaction-nesting" not in first.stdout + first.stderr
    assert history(pg) == [("0001", checksum((project.migrations / "0001_kv.sql").read_text()))]
    assert columns(pg, "kv") == {"k", "v"}

    query(pg, "INSERT INTO kv (k, v) VALUES ('taken', 'first')")
    write(project, "0002_note.sql", NOTE)
    failed = migguard(project, "apply", "--confirm-live")
    assert failed.returncode == 3, failed.stdout + failed.stderr
    assert "0002" in failed.stderr and "rolled back" in failed.stderr
    # Nothing of 0002 stayed: the column its first statement added is gone with the failed insert.
    assert columns(pg, "kv") == {"k", "v"}
    assert query(pg, "SELECT k, v FROM kv") == [("taken", "first")]
    assert applied_versions(pg) == ["0001"]
    assert query(pg, "SELECT count(*) FROM migguard.schema_migrations_progress") == [(0,)]

    query(pg, "DELETE FROM kv")
    done = migguard(project, "apply", "--confirm-live")
    assert done.returncode == 0, done.stdout + done.stderr
    assert columns(pg, "kv") == {"k", "v", "note"}
    assert query(pg, "SELECT k, v FROM kv") == [("taken", "again")]
    assert history(pg) == [("0001", checksum(KV)),
                           ("0002", checksum((project.migrations / "0002_note.sql").read_text()))]


def test_the_history_record_commits_with_the_wrapped_body(project, pg):
    """Fault injection: the history refuses the record. Had the file's own COMMIT run, the body would be
    committed and unrecorded; in migguard's transaction it goes with the record."""
    assert migguard(project, "apply", "--confirm-live").returncode == 0
    query(pg, "CREATE FUNCTION migguard.refuse() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'history refuses %', NEW.version; END $$")
    query(pg, "CREATE TRIGGER refuse BEFORE INSERT ON migguard.schema_migrations "
              "FOR EACH ROW EXECUTE FUNCTION migguard.refuse()")
    write(project, "0002_extra.sql", "BEGIN;\nSET lock_timeout = '2s';\nALTER TABLE kv ADD COLUMN extra text;\nCOMMIT;\n")
    failed = migguard(project, "apply", "--confirm-live")
    assert failed.returncode == 3, failed.stdout + failed.stderr
    assert "history refuses 0002" in failed.stderr
    assert columns(pg, "kv") == {"k", "v"}
    assert applied_versions(pg) == ["0001"]


def test_the_shadow_replays_the_body_in_its_transaction(project, pg):
    """apply_migration (shadow replay and clone apply) with and without the lock tracer's per-statement hook:
    a failing last statement leaves nothing, and the hook sees the body's statements with the file's numbers."""
    write(project, "0002_note.sql", NOTE)
    first, second = discover(project.migrations)
    with psycopg.connect(pg, autocommit=True) as conn:
        apply_migration(conn, first)
        conn.execute("INSERT INTO kv (k, v) VALUES ('taken', 'first')")
        seen: list[int] = []
        with pytest.raises(Exception, match="duplicate key"):
            apply_migration(conn, second, on_statement=lambda _c, index, _t: seen.append(index))
        assert seen == [1, 2]  # SET and ALTER ran (statements 2, 3 of the file); the INSERT failed
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert columns(pg, "kv") == {"k", "v"}
    query(pg, "DELETE FROM kv")
    with psycopg.connect(pg, autocommit=True) as conn:
        apply_migration(conn, second)
    assert columns(pg, "kv") == {"k", "v", "note"}
    assert query(pg, "SELECT k, v FROM kv") == [("taken", "again")]

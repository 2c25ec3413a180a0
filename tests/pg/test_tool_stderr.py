"""A failed pg_dump / pg_restore shows its cause and all of its stderr, redacted (issue 11 item 5):
pg_dump's last line ("Query was: COPY …") is not the reason."""

import psycopg
import pytest

from migguard.core.errors import DatabaseError
from migguard.pg.tools import pg_dump_custom, tool_error

STDERR = b"""pg_dump: error: Dumping the contents of table "items" failed: PQgetResult() failed.
pg_dump: detail: Error message from server: ERROR:  query would be affected by row-level security policy for table "items"
HINT:  To disable the policy for the table's owner, use ALTER TABLE NO FORCE ROW LEVEL SECURITY.
pg_dump: detail: Query was: COPY public.items (tenant_id, id) TO stdout;
"""


def test_the_message_is_the_servers_error_and_the_detail_all_of_stderr():
    error = tool_error("pg_dump", STDERR, 1)
    assert error.message == 'pg_dump failed: query would be affected by row-level security policy for table "items"'
    assert error.detail == STDERR.decode().strip()
    assert error.exit_code == 3


def test_without_a_server_error_the_tools_error_line_then_its_last_line():
    assert tool_error("pg_restore", b"pg_restore: error: input file is too short\nmore\n", 1).message == \
        "pg_restore failed: pg_restore: error: input file is too short"
    only = tool_error("pg_dump", b"something odd\n", 2)
    assert (only.message, only.detail) == ("pg_dump failed: something odd", None)
    assert tool_error("pg_dump", b"", 2).message == "pg_dump failed: exit 2"


def test_a_password_in_the_stderr_is_redacted():
    error = tool_error("pg_dump", b'pg_dump: error: connection to "postgresql://u:S3cret@h/db" failed\n', 1)
    assert "S3cret" not in error.message


@pytest.mark.pg
def test_a_real_pg_dump_under_force_rls_says_why(pg, tmp_path):
    with psycopg.connect(pg, autocommit=True) as admin:
        role = "dump_" + admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f"""CREATE ROLE {role} LOGIN;
            CREATE TABLE items (id int); INSERT INTO items VALUES (1);
            ALTER TABLE items OWNER TO {role};
            ALTER TABLE items ENABLE ROW LEVEL SECURITY; ALTER TABLE items FORCE ROW LEVEL SECURITY""")
    with pytest.raises(DatabaseError) as failed:
        pg_dump_custom(pg.replace("postgresql://postgres@", f"postgresql://{role}@"), tmp_path / "x.dump")
    assert failed.value.message == 'pg_dump failed: query would be affected by row-level security policy for table "items"'
    assert "HINT:" in failed.value.detail and "COPY public.items" in failed.value.detail

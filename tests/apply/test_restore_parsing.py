"""What rollback reads from pg_restore's text output, parsed by PostgreSQL's grammar: any name works."""

from pathlib import Path

import pytest

from migguard.apply.restore import (
    copy_header, qualified_parts, restore_command_column, restore_command_table, sequence_value,
)
from migguard.core.errors import DatabaseError
from migguard.core.identifiers import comment_safe


@pytest.mark.parametrize(("line", "expected"), [
    (b'COPY public.items (id, "Price, EUR", name) FROM stdin;\n', ("public", "items", ["id", "Price, EUR", "name"])),
    (b'COPY "api.v1"."t (x), y" ("a""b", "c)d", "") FROM stdin;\n', None),  # "" is not a valid name: rejected
    (b'COPY "api.v1"."t (x), y" ("a""b", "c)d", e) FROM stdin;\n', ("api.v1", "t (x), y", ['a"b', "c)d", "e"])),
    (b'COPY public."T\xc3\xa9st" ("\xc3\xa9") FROM stdin;\n', ("public", "T\u00e9st", ["\u00e9"])),
])
def test_copy_header_columns(line, expected):
    if expected is None:
        with pytest.raises(DatabaseError):
            copy_header(line)
    else:
        assert copy_header(line) == expected


def test_copy_header_rejects_what_is_not_a_copy():
    with pytest.raises(DatabaseError):
        copy_header(b"SELECT 1;\n")


def test_sequence_values_including_bigint_and_not_called():
    assert sequence_value(b"SELECT pg_catalog.setval('public.\"Odd, seq\"', 42, true);\n") == (42, True)
    assert sequence_value(b"SELECT pg_catalog.setval('public.s', 9223372036854775807, true);\n") == (2**63 - 1, True)
    assert sequence_value(b"SELECT pg_catalog.setval('public.s', 1, false);\n") == (1, False)
    assert sequence_value(b"SELECT now();\n") is None


def test_qualified_parts_follow_quoting_rules():
    assert qualified_parts('public."Doc"."Id"') == ["public", "Doc", "Id"]
    assert qualified_parts('"a.b"."c, d"') == ["a.b", "c, d"]
    assert qualified_parts("accounts") == ["accounts"]


def test_names_in_comments_cannot_end_the_comment():
    name = "public.t.c\nDELETE FROM public.victim;\n--"
    assert "\n" not in comment_safe(name) and "DELETE FROM" in comment_safe(name)
    assert "\n" not in restore_command_table("public", "x\nDROP TABLE y;", Path("/b/k.dump"))
    assert "\r" not in restore_command_column("public", "x\rDROP TABLE y;", "c", Path("/b/k.dump"))
    assert "'x;rm -rf ~'" in restore_command_table("public", "x;rm -rf ~", Path("/b/k.dump"))
    # the parts as given: a dot inside a name does not move it into the schema
    assert "--schema=api.v1 --table=t.x " in restore_command_table("api.v1", "t.x", Path("/b/k.dump"))


def test_a_copy_header_with_a_newline_in_a_name_is_read_whole(tmp_path):
    """pg_restore prints quoted names raw: the header spans lines until it parses."""
    from migguard.apply.restore import BackupData

    script = tmp_path / "fake_pg_restore"
    script.write_text('#!/bin/sh\nprintf \'SET x = 1;\\nCOPY public.t (id, "c\\nFROM stdin;\\n--") FROM stdin;\\n'
                      '1\\tv\\n\\\\.\\n\'\n')
    script.chmod(0o755)

    class Tool:
        def program(self, name):
            return str(script)

    with BackupData(Tool(), tmp_path / "x.dump", "public", "t") as data:
        assert data.copy_columns() == ["id", "c\nFROM stdin;\n--"]
        assert list(data.rows()) == [b"1\tv\n"]

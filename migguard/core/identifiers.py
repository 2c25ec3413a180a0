"""Names and values in generated SQL text: quoting, object keys, and comment-safe labels.

Object names come from the catalog and may hold any character: a dot, a double quote, a
newline. Generated scripts quote them as PostgreSQL's quote_ident/quote_literal do, carry
qualified names as (schema, name) parts rather than splitting a dotted string, and render a
name inside a `--` comment only through `comment_safe`, so no name can end the comment and
turn the rest of its line into a statement. Pure text functions: no I/O, no psycopg.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# The key words PostgreSQL's quote_ident quotes: every one but the unreserved (appendix C's
# "reserved", "reserved (can be function or type)" and "non-reserved (cannot be function or type)",
# as pg_get_keywords() lists them with catcode R, T and C). A column named `time` or `values` is
# printed "time" and "values", as pg_dump and the catalog print it. (PostgreSQL 16 and 17 add the
# SQL/JSON words, json, json_array, …, which this list leaves bare, as PostgreSQL 15 does.)
_RESERVED = frozenset(
    "all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create "
    "current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc "
    "distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral "
    "leading limit localtime localtimestamp not null offset on only or order placing primary references returning "
    "select session_user some symmetric system_user table then to trailing true union unique user using variadic "
    "when where window with authorization binary collation concurrently cross current_schema freeze full ilike inner "
    "is isnull join left like natural notnull outer overlaps right similar tablesample verbose "
    "between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping inout int "
    "integer interval least national nchar none normalize nullif numeric out overlay position precision real row "
    "setof smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists "
    "xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable".split()
)
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


def quote_ident(name: str) -> str:
    """An identifier as PostgreSQL's quote_ident prints it: bare when it may be, else in double quotes."""
    if _PLAIN.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(*parts: str) -> str:
    """`schema.name` (or any number of parts) as SQL, each part quoted on its own."""
    return ".".join(quote_ident(part) for part in parts)


def quote_literal(text: str) -> str:
    """A string literal as PostgreSQL's quote_literal prints it: an E'' string, with backslashes
    doubled, when the text has a backslash, so it means the same whatever standard_conforming_strings is."""
    quoted = "'" + text.replace("'", "''") + "'"
    return "E" + quoted.replace("\\", "\\\\") if "\\" in text else quoted


def name_pattern(*parts: str) -> str:
    """A qualified name as a psql/pg_dump pattern (`pg_dump --table`) that matches exactly that
    object: every part in double quotes, inside which PostgreSQL takes `.`, `*`, `?`, upper case
    and every regular-expression character literally."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def object_key(*parts: str) -> str:
    """The schema model's key of an object: its parts joined by dots, a part in double quotes
    when it holds a dot or a double quote. Equal to the plain dotted name for ordinary names,
    and unambiguous for any: `"api.v1"."t.x"` and `api."v1.t".x` are different keys."""
    return ".".join('"' + p.replace('"', '""') + '"' if "." in p or '"' in p else p for p in parts)


_KEY_PART = re.compile(r'"((?:[^"]|"")*)"(?:\.|$)|([^."]*)(?:\.|$)')


def key_parts(key: str) -> tuple[str, ...]:
    """The parts of an `object_key` (its inverse), for keys read back from a saved plan."""
    parts, position = [], 0
    while position < len(key):
        match = _KEY_PART.match(key, position)
        if match is None or match.end() == position:
            raise ValueError(f"not an object key: {key!r}")
        quoted, bare = match.groups()
        parts.append(quoted.replace('""', '"') if quoted is not None else bare)
        position = match.end()
    return tuple(parts)


@functools.cache
def _name_part() -> re.Pattern[str]:
    """One identifier, bare or quoted (compiled on first use: its Unicode ranges cost ~4 ms, which a command
    that parses no configured name, as a cold `migguard lint`, does not pay)."""
    return re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)')


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def parse_qualified(text: str, parts: int = 2) -> tuple[str, ...]:
    """`schema.table` as written in SQL (each part bare or double-quoted) → its parts as the
    catalog spells them (bare parts folded to lower case, ASCII only, as PostgreSQL folds them).

    Raises ValueError with the reason when the text is not exactly `parts` identifiers."""
    names, position = [], 0
    while True:
        match = _name_part().match(text, position)
        if match is None:
            raise ValueError(f"expected {_shape(parts)}, e.g. {_example(parts)}")
        quoted, bare = match.groups()
        name = quoted.replace('""', '"') if quoted is not None else bare.translate(_ASCII_LOWER)
        if "\x00" in name:
            raise ValueError("a name may not contain a NUL character")
        if len(name.encode("utf-8")) > 63:
            raise ValueError(f"{name[:20]!r}…: PostgreSQL names are at most 63 bytes")
        names.append(name)
        position = match.end()
        if position == len(text):
            break
        if text[position] != "." or len(names) == parts:
            raise ValueError(f"expected {_shape(parts)}, e.g. {_example(parts)}")
        position += 1
    if len(names) != parts:
        raise ValueError(f"expected {_shape(parts)}, e.g. {_example(parts)}")
    return tuple(names)


def _shape(parts: int) -> str:
    return {1: "one identifier", 2: "schema.name"}.get(parts, f"{parts} dot-separated identifiers")


def _example(parts: int) -> str:
    return {1: "tenant_id", 2: 'migguard.schema_migrations or "My Schema".history'}.get(parts, "a.b.c")


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def comment_safe(text: str) -> str:
    """`text` fit to stand inside an SQL comment: line breaks and every other control or
    separator character escaped (a `--` comment ends at a newline or carriage return), and the
    block-comment markers `/*` `*/` broken (PostgreSQL nests block comments)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out).replace("/*", "/\\*").replace("*/", "*\\/")

"""Where a finding points in a statement's text, from PostgreSQL's own parse: node locations, else tokens.

PostgreSQL's tree (`Statement.node`) records a `location` on the nodes its grammar positions: a table
(RangeVar), a column definition (ColumnDef), a constraint (Constraint: its CONSTRAINT keyword, else its
kind's keyword), a type, an expression. These are byte offsets into the parsed string, so `offset` turns
them into character offsets into `Statement.text` (they differ only where the text is not ASCII).

The grammar keeps no location for the parts of a statement that are plain names or keywords: an ALTER
TABLE action (`DROP COLUMN x`, `ALTER COLUMN x TYPE …`, `VALIDATE CONSTRAINT c`), a DROP's object names,
a RENAME's old name. For those `words` matches a keyword sequence over PostgreSQL's scanner tokens of the
statement, where a regex over the text was used before: a comment, a string or a longer name never matches,
and no pattern is compiled per name (about 2,800 on the corpus, a tenth of a cold lint: issue 13).
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Protocol

from pglast import parser as pg


class Statement(Protocol):
    """What positions are read from: `parse.Statement` (named here, not imported: parse reads `nodes`, which
    reads this module)."""

    @property
    def text(self) -> str: ...

    @property
    def node(self) -> dict | None: ...

    @property
    def node_base(self) -> int: ...


# PostgreSQL keeps 63 bytes of a name (NAMEDATALEN - 1).
_MAX_NAME_BYTES = 63


def offset(statement: Statement, location: int | None) -> int | None:
    """Character offset in `statement.text` of a tree node's byte `location`; None when the node has none
    (PostgreSQL writes -1, the JSON leaves it out) or it lies outside the statement."""
    if location is None or location < 0:
        return None
    relative = location - statement.node_base
    text = statement.text
    if text.isascii():
        return relative if 0 <= relative <= len(text) else None
    encoded = text.encode("utf-8")
    if not 0 <= relative <= len(encoded):
        return None
    return len(encoded[:relative].decode("utf-8", errors="ignore"))


# Fields typed as one node kind hold its body without the `{kind: …}` wrapper (see `nodes.py`): where a table
# reference is written as such a field (UPDATE's target, REFERENCES' table, CREATE POLICY's table …); it is
# indexed as a RangeVar.
_TYPED_FIELDS = {"RangeVar": frozenset({"relation", "pktable", "rel", "view", "sequence", "typevar", "table"})}


def nodes(tree: dict | None, kind: str) -> list[dict]:
    """The bodies of every `kind` node in a statement's JSON tree, in no particular order (the tree is walked
    once, for every kind: a statement's findings ask about several nodes)."""
    if tree is None:
        return []
    cached = _INDEXES.get(id(tree))
    if cached is None or cached[0] is not tree:
        if len(_INDEXES) >= _INDEXES_KEPT:
            _INDEXES.clear()
        cached = _INDEXES[id(tree)] = (tree, _index(tree))
    return cached[1].get(kind, [])


# The last trees indexed, by identity (a tree is a dict: not hashable); the tree is kept with its index, so
# an id is never reused while its entry lives.
_INDEXES: dict[int, tuple[dict, dict[str, list[dict]]]] = {}
_INDEXES_KEPT = 64


def _index(tree: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    typed = _TYPED_FIELDS["RangeVar"]
    pending: list = [tree]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, dict):
                    if key[0].isupper():
                        found.setdefault(key, []).append(value)
                    elif key in typed and "relname" in value:
                        found.setdefault("RangeVar", []).append(value)
                    pending.append(value)
                elif isinstance(value, list):
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return found


def node_offset(statement: Statement, kind: str, **fields: str) -> int | None:
    """Offset of the first-written `kind` node of the statement's tree whose `fields` have these values (a
    ColumnDef by `colname`, a Constraint by `conname`), from its location; None when there is none."""
    found = [offset(statement, body.get("location")) for body in nodes(statement.node, kind)
             if all(body.get(key) == value for key, value in fields.items())]
    return min((place for place in found if place is not None), default=None)


def relation_offset(statement: Statement, name: str) -> int | None:
    """Where the table `name` (unqualified) is first referred to: PostgreSQL's tree places a reference
    (RangeVar) at its schema when it has one, so the name is the first such token from there."""
    begin = node_offset(statement, "RangeVar", relname=stored(name))
    return words(statement, "{}", name, after=begin) if begin is not None else None


class Token(NamedTuple):
    start: int  # character offset in the statement text
    value: str  # a keyword or bare name folded to lower case; a quoted name as PostgreSQL reads it
    name: bool  # could this token be a name (an identifier, quoted or not, or a non-reserved keyword)?


def tokens(statement: Statement) -> tuple[Token, ...]:
    """The statement's tokens, without comments (computed once per text)."""
    return text_tokens(statement.text)


@functools.lru_cache(maxsize=512)
def text_tokens(text: str) -> tuple[Token, ...]:
    """The tokens of SQL text, without comments; none when PostgreSQL's scanner rejects it."""
    try:
        scanned = pg.scan(text)
    except pg.ParseError:
        return ()
    found = []
    for token in scanned:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        written = text[token.start:token.end + 1]
        if token.name == "IDENT" and written.startswith('"'):
            found.append(Token(token.start, written[1:-1].replace('""', '"'), True))
        elif token.name == "IDENT" or token.kind.endswith("_KEYWORD"):
            found.append(Token(token.start, written.lower(), token.name == "IDENT" or token.kind != "RESERVED_KEYWORD"))
        else:
            found.append(Token(token.start, written.lower(), False))
    return tuple(found)


def words(statement: Statement, sequence: str, name: str = "", after: int = 0) -> int | None:
    """Offset of the first token, at or after `after`, that starts `sequence`: keywords separated by spaces,
    `|` between alternatives, a `?` after one marks it optional, `*` stands for any token and `{}` for `name`
    (quoted or bare, as PostgreSQL folds it). `words(s, "drop column? if? exists? {}", "email")` finds
    `DROP COLUMN IF EXISTS email` and `drop "email"`. None when the statement's tokens hold no such sequence."""
    steps = _steps(sequence)
    found = tokens(statement)
    for index, token in enumerate(found):
        if token.start >= after and _matches(found, index, steps, name):
            return token.start
    return None


@functools.lru_cache(maxsize=256)
def _steps(sequence: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    return tuple((tuple(word.rstrip("?").split("|")), word.endswith("?")) for word in sequence.lower().split())


def _matches(found: tuple[Token, ...], index: int, steps: tuple[tuple[tuple[str, ...], bool], ...],
             name: str) -> bool:
    if not steps:
        return True
    (alternatives, optional), rest = steps[0], steps[1:]
    if index < len(found) and _is(found[index], alternatives, name) and _matches(found, index + 1, rest, name):
        return True
    return optional and _matches(found, index, rest, name)


def _is(token: Token, alternatives: tuple[str, ...], name: str) -> bool:
    if alternatives == ("*",):
        return True
    if alternatives == ("{}",):
        return token.name and (token.value == name or stored(token.value) == name)
    return token.value in alternatives


def stored(value: str) -> str:
    """A name as PostgreSQL stores it when it is written longer than it keeps."""
    encoded = value.encode("utf-8")
    return value if len(encoded) <= _MAX_NAME_BYTES else encoded[:_MAX_NAME_BYTES].decode("utf-8", errors="ignore")

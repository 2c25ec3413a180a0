"""SQL for a table's storage and replication properties: UNLOGGED, reloptions, REPLICA IDENTITY,
column statistics targets and INHERITS.

Each difference is a `Step` with its forward and reverse SQL; `schema/diff.py` turns steps into
`Change`s and places them (a step names what must exist before it: the columns, or the indexes).
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from migguard.core.identifiers import quote_ident, quote_literal, quote_qualified
from migguard.schema.model import Table

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"


@dataclass(frozen=True)
class Step:
    kind: str
    member: str | None  # the column a step is about; None: the table itself
    forward: str
    reverse: str
    after: str  # what must exist first: "columns" (its own), "all columns" (every table's columns and
    # constraints: INHERIT checks both), "indexes", or "nothing" (runs before columns change)
    lock: str | None = ACCESS_EXCLUSIVE
    notes: tuple[str, ...] = ()


def options_sql(options: tuple[str, ...]) -> str:
    """`name='value', …` for WITH (…) and SET (…): each value a literal (PostgreSQL parses it)."""
    return ", ".join(f"{quote_ident(key)}={quote_literal(value)}"
                     for key, _, value in (option.partition("=") for option in options))


def create_clauses(table: Table) -> tuple[str, str]:
    """(the word before TABLE, the WITH clause) of a CREATE TABLE. INHERITS is not among them: a
    child is created with every column and inherits once every table's columns are final (its
    parent's may change type in the same diff), as a kept table would (`created_steps`)."""
    unlogged = "UNLOGGED " if table.persistence == "unlogged" else ""
    options = f" WITH ({options_sql(table.options)})" if table.options else ""
    return unlogged, options


def created_steps(table: Table) -> list[Step]:
    """What CREATE TABLE does not say: statistics targets, the replica identity, INHERIT."""
    bare = table.model_copy(update={"columns": {n: c.model_copy(update={"statistics": None})
                                                for n, c in table.columns.items()},
                                    "replica_identity": "default", "replica_identity_index": None, "inherits": ()})
    return property_steps(bare, table, created=True)


def property_steps(old: Table, new: Table, *, created: bool = False) -> list[Step]:
    """Steps that turn `old`'s properties into `new`'s (the same table, kept)."""
    target = f"ALTER TABLE {quote_qualified(new.schema_name, new.name)}"
    steps: list[Step] = []
    if not created and old.persistence != new.persistence:
        on, off = f"{target} SET UNLOGGED;", f"{target} SET LOGGED;"
        unlogged = new.persistence == "unlogged"
        steps.append(Step("set unlogged" if unlogged else "set logged", None, on if unlogged else off,
                          off if unlogged else on, "columns",
                          notes=("rewrites the table; an unlogged table is emptied after a crash and not replicated",)))
    if not created and old.options != new.options:
        steps.append(Step("alter table options", None, _options_sql(target, old.options, new.options),
                          _options_sql(target, new.options, old.options), "columns", lock=SHARE_UPDATE_EXCLUSIVE))
    for column in sorted(new.columns.values(), key=lambda c: c.position):
        before = old.columns.get(column.name)
        was = before.statistics if before is not None else None
        if was != column.statistics:
            alter = f"{target} ALTER COLUMN {quote_ident(column.name)} SET STATISTICS"
            steps.append(Step("alter column statistics", column.name, f"{alter} {_target(column.statistics)};",
                              f"{alter} {_target(was)};", "columns", lock=SHARE_UPDATE_EXCLUSIVE))
    if (old.replica_identity, old.replica_identity_index) != (new.replica_identity, new.replica_identity_index):
        steps.append(Step("alter replica identity", None, f"{target} REPLICA IDENTITY {_identity(new)};",
                          f"{target} REPLICA IDENTITY {_identity(old)};", "indexes",
                          notes=("logical replication and CDC decode updates and deletes by the replica identity",)))
    if old.inherits != new.inherits:
        for parent in old.inherits:
            if parent not in new.inherits:
                steps.append(Step("no inherit", None, f"{target} NO INHERIT {parent};", f"{target} INHERIT {parent};",
                                  "nothing"))
        for parent in new.inherits:
            if parent not in old.inherits:
                steps.append(Step("inherit", None, f"{target} INHERIT {parent};", f"{target} NO INHERIT {parent};",
                                  "all columns"))
    return steps


def _options_sql(target: str, old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """SET the options `new` adds or changes, RESET those it drops."""
    old_keys = {option.partition("=")[0] for option in old}
    new_keys = {option.partition("=")[0] for option in new}
    changed = tuple(option for option in new if option not in old)
    parts = []
    if changed:
        parts.append(f"{target} SET ({options_sql(changed)});")
    if old_keys - new_keys:
        parts.append(f"{target} RESET ({', '.join(quote_ident(k) for k in sorted(old_keys - new_keys))});")
    return "\n".join(parts)


def _target(statistics: int | None) -> str:
    return "-1" if statistics is None else str(int(statistics))


def _identity(table: Table) -> str:
    if table.replica_identity == "index" and table.replica_identity_index:
        return f"USING INDEX {quote_ident(table.replica_identity_index)}"
    return table.replica_identity.upper() if table.replica_identity in ("full", "nothing") else "DEFAULT"

"""SQL for identity columns: the `GENERATED … AS IDENTITY (…)` clause with its sequence's name and
options, and the ALTER COLUMN steps between two identity states of a kept column.

An identity column's sequence belongs to the column (it is created, altered and dropped through
it), so its options are part of the column, not a sequence of the model's own: without them a
changed START or CYCLE would be invisible and a recreated column would come back with another
sequence. Pure: no I/O.
"""

from __future__ import annotations

from migguard.core.identifiers import quote_ident, quote_qualified
from migguard.schema.model import Column, IdentitySequence


def options_sql(sequence: IdentitySequence) -> str:
    """The sequence options, as pg_dump states them (every one: a default differs by type)."""
    return (f"START WITH {int(sequence.start)} INCREMENT BY {int(sequence.increment)} "
            f"MINVALUE {int(sequence.minimum)} MAXVALUE {int(sequence.maximum)} CACHE {int(sequence.cache)}"
            f"{' CYCLE' if sequence.cycle else ' NO CYCLE'}")


def identity_clause(column: Column, schema: str) -> str:
    """`GENERATED ALWAYS|BY DEFAULT AS IDENTITY [(SEQUENCE NAME … options)]` of a column that has one."""
    clause = f"GENERATED {str(column.identity).upper()} AS IDENTITY"
    sequence = column.identity_sequence
    if sequence is None:
        return clause
    return f"{clause} (SEQUENCE NAME {quote_qualified(schema, sequence.name)} {options_sql(sequence)})"


def alter_steps(old: Column, new: Column, alter_column: str, schema: str) -> list[tuple[str, str]]:
    """(forward, reverse) statements that turn `old`'s identity into `new`'s, on a kept column
    (`alter_column` is `ALTER TABLE t ALTER COLUMN c`). Adding an identity needs the column NOT
    NULL and without a default: the caller orders those changes before this one."""
    if not old.identity and not new.identity:
        return []
    if not old.identity:
        return [(f"{alter_column} ADD {identity_clause(new, schema)};", f"{alter_column} DROP IDENTITY;")]
    if not new.identity:
        return [(f"{alter_column} DROP IDENTITY;", f"{alter_column} ADD {identity_clause(old, schema)};")]
    steps = []
    forward, reverse = _set_options(old, new), _set_options(new, old)
    if forward or reverse:
        steps.append((f"{alter_column} {forward};", f"{alter_column} {reverse};"))
    before, after = old.identity_sequence, new.identity_sequence
    if before is not None and after is not None and before.name != after.name:
        steps.append((f"ALTER SEQUENCE {quote_qualified(schema, before.name)} RENAME TO {quote_ident(after.name)};",
                      f"ALTER SEQUENCE {quote_qualified(schema, after.name)} RENAME TO {quote_ident(before.name)};"))
    return steps


def _set_options(old: Column, new: Column) -> str:
    """`SET GENERATED … SET START WITH …` for what differs (one ALTER COLUMN: PostgreSQL checks the
    options together, so a new MINVALUE above the old START is accepted with its new START)."""
    parts = []
    if old.identity != new.identity:
        parts.append(f"SET GENERATED {str(new.identity).upper()}")
    before, after = old.identity_sequence, new.identity_sequence
    if before is not None and after is not None:
        for field, words in (("start", "START WITH"), ("increment", "INCREMENT BY"), ("minimum", "MINVALUE"),
                             ("maximum", "MAXVALUE"), ("cache", "CACHE")):
            if getattr(before, field) != getattr(after, field):
                parts.append(f"SET {words} {int(getattr(after, field))}")
        if before.cycle != after.cycle:
            parts.append("SET CYCLE" if after.cycle else "SET NO CYCLE")
    return " ".join(parts)

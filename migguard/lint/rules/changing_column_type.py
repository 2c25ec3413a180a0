"""
## What it does
Flags `ALTER TABLE … ALTER COLUMN … TYPE` when the change is not binary-coercible, so PostgreSQL
has to rewrite the table: any change with a `USING` clause that does more than cast the column to
its new type (`USING col::text` for `TYPE text` is the same as no `USING`), and every change
except these, which PostgreSQL makes in the catalog alone:
`varchar(n)` → `varchar(m)` with m ≥ n, or → `varchar` / `text`; `text` → `varchar` (no length);
`text` / `varchar` ↔ `citext`; `numeric(p, s)` → `numeric(q, s)` with q ≥ p, or → `numeric`;
`cidr` → `inet`; `timestamp(p)` / `timestamptz(p)` / `time(p)` / `timetz(p)` / `interval(p)` to a
larger precision, to 6 (the largest) or to no precision (which means 6).

## Why it is dangerous
A rewrite copies every row into a new file and rebuilds every index of the table while holding
an ACCESS EXCLUSIVE lock, which blocks every read and write of the table until it ends: minutes
to hours on a large table. `timestamp` → `timestamptz` skips the rewrite only when the session
TimeZone is UTC (PostgreSQL 12+), which a migration should not rely on, so it is treated as one.

## Bad
```sql
ALTER TABLE accounts ALTER COLUMN id TYPE bigint;
```

## Good
```sql
-- Widening a varchar is binary-coercible: no rewrite.
CREATE TABLE notes (id bigint PRIMARY KEY, title varchar(100));
ALTER TABLE notes ALTER COLUMN title TYPE varchar(200);
```

## When it does not fire
The change is binary-coercible (above). The old type is known only when the column is declared
earlier in the same file; otherwise a change to `text`, `varchar`, `numeric`, `inet` or `citext`
may be one of the safe changes and is not flagged (migguard plan sees the real schema). A table
created earlier in the same migration is reported as info: it has no rows to rewrite.
Narrowing changes are also reported by ban-narrowing-type-change.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
- https://www.postgresql.org/docs/current/sql-createcast.html (binary-coercible casts)
"""

from __future__ import annotations

from collections.abc import Iterator

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, normalise
from migguard.lint.facts import columns
from migguard.lint.rule import Rule, Violation

HINT = ("Add a new column of the new type, keep it in sync with a trigger, backfill it in batches, then switch "
        "the application over and drop the old column in a later migration.")

_TEXTUAL = frozenset({"text", "varchar", "citext"})
# New types that some binary-coercible change leads to: with the old type unknown, maybe no rewrite.
_MAYBE_COERCIBLE = frozenset({"text", "varchar", "citext", "numeric", "inet"})
_PRECISION_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})
_MAX_PRECISION = 6  # of each of them: precision 6 is what no precision means


def check(context: LintContext) -> Iterator[Violation]:
    # Follow each column's type through the file: CREATE TABLE and ADD COLUMN declare it, ALTER TYPE changes it.
    events: list[tuple[int, int, columns.DeclaredColumn | columns.AddedColumn | columns.RetypedColumn]] = []
    events += [(c.statement.index, 0, c) for c in columns.created_columns(context)]
    events += [(c.statement.index, 0, c) for c in columns.added_columns(context)]
    events += [(c.statement.index, 1, c) for c in columns.retyped_columns(context)]
    known: dict[tuple[str, str], columns.ColumnType | None] = {}
    for _, _, column in sorted(events, key=lambda event: event[:2]):
        key = (normalise(column.table), column.name)
        if isinstance(column, columns.RetypedColumn):
            violation = _check_one(context, column, known.get(key))
            if violation is not None:
                yield violation
        known[key] = column.type


def _check_one(context: LintContext, change: columns.RetypedColumn, old: columns.ColumnType | None) -> Violation | None:
    new = change.type
    if new is None:
        return None
    where = f"{change.table}.{change.name}"
    if change.using:
        what = f"Changing the type of {where} to {new} with a USING clause"
    elif old is not None:
        if not rewrites(old, new):
            return None
        what = f"Changing {where} from {old} to {new}"
    else:
        if not new.array and new.name in _MAYBE_COERCIBLE:
            return None  # could be varchar(n) → text and the like: only the real schema tells
        what = f"Changing the type of {where} to {new}"
    return Violation(
        change.statement,
        f"{what} rewrites the whole table and rebuilds its indexes, holding an {ACCESS_EXCLUSIVE.describe()} "
        f"until it ends.",
        HINT,
        offset=columns.alter_column_offset(change.statement, change.name),
        new_object=context.is_new_table(change.table, change.statement.index),
    )


def rewrites(old: columns.ColumnType, new: columns.ColumnType) -> bool:
    """Does changing a column from `old` to `new` (without USING) rewrite the table?"""
    if old == new:
        return False
    if old.array or new.array:
        return True  # an array coercion is never a plain relabel
    old_mods, new_mods = old.int_params(), new.int_params()
    if old_mods is None or new_mods is None:
        return True
    if old.name in _TEXTUAL and new.name in _TEXTUAL:
        if new.name != "varchar" or not new_mods:
            return False  # → text, citext, or varchar without a length: a relabel
        return not (old.name == "varchar" and old_mods and old_mods[0] <= new_mods[0])
    if old.name == "numeric" and new.name == "numeric":
        if not new_mods:
            return False
        if not old_mods:
            return True
        old_p, old_s = old_mods[0], (old_mods[1] if len(old_mods) > 1 else 0)
        new_p, new_s = new_mods[0], (new_mods[1] if len(new_mods) > 1 else 0)
        return not (new_s == old_s and new_p >= old_p)
    if old.name == "cidr" and new.name == "inet":
        return bool(new_mods)
    if old.name == new.name and old.name in _PRECISION_TYPES:
        if not new_mods or new_mods[0] >= _MAX_PRECISION:
            return False
        return not (old_mods and old_mods[0] <= new_mods[0])
    return True


RULE = Rule(
    id="changing-column-type",
    default_severity=Severity.ERROR,
    summary="ALTER COLUMN … TYPE that is not binary-coercible rewrites the table",
    family="locks",
    doc=__doc__,
    check=check,
)

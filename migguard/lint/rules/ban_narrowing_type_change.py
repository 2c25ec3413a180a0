"""
## What it does
Refuses `ALTER TABLE … ALTER COLUMN … TYPE` to a type that can truncate existing values or fail
to convert them, unless `--allow-destructive` is given:
- to a length-limited `varchar(n)` / `char(n)`, unless the old type is known (from this file) to
  be a text type no longer than `n`;
- to a smaller integer (`bigint` → `integer`, any → `smallint`), or from a fractional type to an
  integer;
- to `numeric(p, s)` with a precision;
- to `real` (from `double precision`, `numeric` or an integer), to `date` or `time` (from a
  timestamp);
- to any type a cast can fail to produce: from a text or JSON type to anything that is not text,
  and any `USING col::type` cast to a number, `uuid`, `boolean`, date or time, network type or a
  user-defined type such as an enum.

The old type is taken from this file when it creates the table or column, or changed its type
before; otherwise only the new type and the `USING` clause are judged.

## Why it is dangerous
A value that does not fit aborts the migration half-way through its rewrite (`value too long for
type character varying(20)`, `integer out of range`, `invalid input syntax for type uuid`), often
only in production, where the data is. Worse, an explicit `USING col::varchar(20)` cuts long values
silently, `numeric(p, s)` and `real` round them, and `date` drops the time of day: data is lost
with no error at all. The type change rewrites the table under an ACCESS EXCLUSIVE lock, which
blocks every read and write of it for the whole rewrite.

## Bad
```sql
ALTER TABLE accounts ALTER COLUMN email TYPE varchar(100);
```

## Good
```sql
-- Widening never truncates or fails:
ALTER TABLE accounts ALTER COLUMN id TYPE bigint;
-- To limit the length, add a check instead (NOT VALID, then VALIDATE in a later step):
ALTER TABLE accounts ADD CONSTRAINT accounts_email_length CHECK (char_length(email) <= 100) NOT VALID;
```

## When it does not fire
Widening changes (`integer` → `bigint`, `varchar(n)` → `text` or a longer `varchar`, `real` →
`double precision`, `timestamp` → `timestamptz`). A change to `integer` or `double precision`, and
a `USING` cast to `bigint`, `jsonb`, `json`, `timestamp` or `timestamptz`, when the old type is not
known in this file: from their usual sources (`integer`, `json`, `timestamp`) they always convert; `migguard
plan` sees the real types. Changing a column of a table created earlier in the same migration is
reported as info. With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/datatype-character.html
- https://www.postgresql.org/docs/current/datatype-numeric.html
- https://www.postgresql.org/docs/current/sql-createcast.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from migguard.core.findings import Severity
from migguard.core.locks import ACCESS_EXCLUSIVE
from migguard.lint.context import LintContext, alter_table, column_defs, created_table, identifier, normalise, \
    table_name
from migguard.lint.rule import Rule, Violation
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import postgres_sql
from migguard.sql.shapes import AlterTable, CreateTable

HINT_LIMIT = (
    "Keep the wider type and enforce the limit with a CHECK constraint (ADD … NOT VALID, then VALIDATE); "
    "if the type must change, fix the rows that do not fit first, then change it with --allow-destructive."
)
HINT_CONVERT = (
    "Find and fix the rows that would not convert first (a SELECT with the same conversion), or add a new "
    "column of the new type and backfill it; then change the type with --allow-destructive."
)


# --- a small model of PostgreSQL types, from any spelling either parser produces ------------------

@dataclass(frozen=True, slots=True)
class PgType:
    base: str  # canonical name: smallint, integer, bigint, numeric, real, double precision, varchar, char, …
    mods: tuple[int, ...] = ()  # typmods: length, or precision and scale
    array: bool = False

    def __str__(self) -> str:
        text = self.base + (f"({', '.join(map(str, self.mods))})" if self.mods else "")
        return text + ("[]" if self.array else "")


_ALIASES = {
    "int2": "smallint", "smallint": "smallint", "smallserial": "smallint", "serial2": "smallint",
    "int": "integer", "int4": "integer", "integer": "integer", "serial": "integer", "serial4": "integer",
    "int8": "bigint", "bigint": "bigint", "bigserial": "bigint", "serial8": "bigint",
    "numeric": "numeric", "decimal": "numeric",
    "float4": "real", "real": "real",
    "float8": "double precision", "double precision": "double precision", "double": "double precision",
    "varchar": "varchar", "character varying": "varchar", "char varying": "varchar",
    "char": "char", "character": "char", "bpchar": "char", "nchar": "char",
    "text": "text", "citext": "text", "name": "text",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp", "datetime": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "time": "time", "time without time zone": "time", "timetz": "timetz", "time with time zone": "timetz",
    "date": "date", "bool": "boolean", "boolean": "boolean", "uuid": "uuid", "json": "json", "jsonb": "jsonb",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "interval": "interval", "money": "money",
    "bytea": "bytea",
}
_INTEGERS = {"smallint": 1, "integer": 2, "bigint": 3}
_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}  # decimal digits an integer type can hold
_FRACTIONAL = {"numeric", "real", "double precision"}
_TEXT = {"text", "varchar", "char"}
_BUILTIN = set(_ALIASES.values())
_FLOAT_DIGITS = 15  # decimal digits a double precision value carries
_TIMESTAMPS = {"timestamp", "timestamptz"}
# Targets a USING cast is taken as risky for even when the old type is unknown. Left out: text types (anything
# converts to text), and bigint/jsonb/json/timestamp/timestamptz, whose usual sources (integer, json, timestamp)
# always convert: `TYPE bigint USING col::bigint` widens an integer column.
_NOT_RISKY_UNKNOWN = _TEXT | {"bigint", "json", "jsonb", "timestamp", "timestamptz", "bytea"}
_TYPE_TEXT = re.compile(r"^(?P<base>[^(\[]*?)\s*(?:\((?P<mods>[^)]*)\))?\s*(?P<rest>(?:with(?:out)? time zone)?)"
                        r"\s*(?P<array>(?:\[\d*\]\s*)*)$", re.IGNORECASE)


def parse_type(text: str) -> PgType | None:
    """`varchar(10)`, `numeric(10, 2)`, `int4[]`, `TIMESTAMP(3) WITH TIME ZONE`, `public.citext` → PgType."""
    match = _TYPE_TEXT.match(" ".join(text.strip().split()))
    if not match:
        return None
    written = match.group("base").strip()
    base = written.lower().replace('"', "")
    if match.group("rest"):
        base = f"{base} {match.group('rest').lower()}"
    for prefix in ("pg_catalog.", "public."):
        base = base.removeprefix(prefix)
    canonical = _ALIASES.get(base, written.removeprefix("public."))  # a user-defined type keeps its spelling
    mods: tuple[int, ...] = ()
    if match.group("mods"):
        try:
            mods = tuple(int(m) for m in match.group("mods").split(","))
        except ValueError:
            mods = ()
    if base in ("float", "float4", "float8") and mods:  # float(p): p digits of binary precision
        canonical, mods = ("real" if mods[0] <= 24 else "double precision"), ()
    elif base == "float":
        canonical = "double precision"
    if canonical == "char" and not mods and base != "bpchar":
        mods = (1,)  # `char` alone is char(1)
    if canonical in ("timestamp", "timestamptz", "time", "timetz", "interval"):
        mods = ()  # fractional-second precision is not judged
    return PgType(canonical, mods, bool(match.group("array")))


def _sqlglot_type(node: exp.Expression | None) -> PgType | None:
    if not isinstance(node, exp.DataType):
        return None
    return parse_type(postgres_sql(node))


# --- the column types this file declares ------------------------------------------------------------

def _known_types(context: LintContext) -> tuple[dict[tuple[str, str], list[tuple[int, PgType | exp.Expression | None]]],
                                                dict[tuple[str, str], int]]:
    """(table, column) → [(statement index, type it has from then on)] in file order, and
    (table, column) → index of the ADD COLUMN that adds it in this file. A type sqlglot read stays its DataType
    until `_type_before` asks for it: turning every declared type back into text cost more than the rule."""
    types: dict[tuple[str, str], list[tuple[int, PgType | exp.Expression | None]]] = {}
    added: dict[tuple[str, str], int] = {}

    def note(table: str, column: str, index: int, pg_type: PgType | exp.Expression | None) -> None:
        types.setdefault((table, column), []).append((index, pg_type))

    for statement in context.parsed():
        table = created_table(statement)
        if table:
            for column in column_defs(statement):
                note(table, identifier(column.this), statement.index, column.args.get("kind"))
            if isinstance(statement.command, CreateTable):
                for info in statement.command.columns:
                    note(table, info.name, statement.index, parse_type(info.type_name))
            continue
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef):
                    note(table, identifier(action.this), statement.index, action.args.get("kind"))
                    added.setdefault((table, identifier(action.this)), statement.index)
                elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                    note(table, identifier(action.this), statement.index, action.args.get("dtype"))
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            table = normalise(statement.command.table)
            for command_action in statement.command.actions:
                if command_action.kind in ("add_column", "alter_column_type") and command_action.name:
                    note(table, command_action.name, statement.index, parse_type(command_action.type_name or ""))
                if command_action.kind == "add_column" and command_action.name:
                    added.setdefault((table, command_action.name), statement.index)
    return types, added


def _type_before(types: dict, table: str, column: str, index: int) -> PgType | None:
    found = None
    for at_index, pg_type in types.get((table, column), ()):
        if at_index < index:
            found = pg_type
    return found if found is None or isinstance(found, PgType) else _sqlglot_type(found)


# --- the judgement ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Using:
    """The USING clause of a type change: absent, a plain cast of the column, or an expression."""

    kind: str  # none | cast | expression
    cast_to: PgType | None = None  # for a cast: the outermost target type


NO_USING = Using("none")


def narrowing(old: PgType | None, new: PgType, using: Using = NO_USING) -> str | None:
    """Why changing a column from `old` (None: unknown) to `new` can truncate or fail; None when it cannot.

    With a USING expression that is not a plain cast of the column the author spelled the conversion
    out, so only the limits of the new type itself (a length) are judged.
    """
    base = new.base
    if base in ("varchar", "char") and new.mods and not new.array:
        length = new.mods[0]
        if old is not None and old.base in ("varchar", "char") and old.mods and old.mods[0] <= length:
            return None
        if old is not None and old == new:
            return None
        unit = "character" if length == 1 else "characters"
        return f"values longer than {length} {unit} make it fail (or, with a USING cast, are cut off)"
    if using.kind == "expression" or (old is not None and old == new):
        return None
    if old is not None and old.array != new.array:
        return f"existing {old} values may not convert to {new}"
    if new.array:
        return narrowing(None if old is None else PgType(old.base, old.mods), PgType(new.base, new.mods), using)
    if old is not None and old.base in _TEXT | {"json", "jsonb"} and base not in _TEXT and not (
            old.base in ("json", "jsonb") and base in ("json", "jsonb")):
        return f"any existing value that is not a valid {new} makes the conversion from {old} fail"
    if base in _INTEGERS:
        if old is not None and old.base in _INTEGERS and _INTEGERS[old.base] > _INTEGERS[base]:
            return f"values outside the range of {base} make the conversion from {old} fail"
        if old is not None and old.base in _FRACTIONAL:
            return f"fractions of {old} values are rounded away, and values outside the range of {base} fail"
        if old is None and base == "smallint":
            return "values outside the range of smallint (-32768 to 32767) make it fail"
    if base == "numeric" and new.mods:
        precision, scale = new.mods[0], (new.mods[1] if len(new.mods) > 1 else 0)
        if old is None and precision - scale >= _DIGITS["bigint"] and scale >= _FLOAT_DIGITS:
            return None  # holds any integer, and a double's decimals
        if old is not None and old.base == "numeric" and old.mods:
            old_scale = old.mods[1] if len(old.mods) > 1 else 0
            if scale >= old_scale and precision - scale >= old.mods[0] - old_scale:
                return None
        elif old is not None and old.base in _DIGITS:
            if precision - scale >= _DIGITS[old.base]:
                return None
        return (f"values are rounded to {scale} decimal places, and values with more than {precision - scale} "
                "digits before the point make it fail")
    if base == "real" and (old is None or old.base in _FRACTIONAL | set(_INTEGERS)):
        return "real keeps only about 6 significant digits, so values are rounded"
    if base == "double precision" and old is not None and old.base in ("numeric", "bigint"):
        return f"double precision keeps only about 15 significant digits, so {old} values are rounded"
    if base in ("date", "time", "timetz") and (old is None or old.base in _TIMESTAMPS):
        dropped = "the time of day" if base == "date" else "the date"
        also = f" (and text values that are not valid {base}s fail)" if old is None else ""
        return f"{dropped} of every timestamp is dropped{also}"
    if old is not None and old.base not in _BUILTIN and base != old.base and base not in _TEXT:
        return f"existing {old} values that have no {new} equivalent make the conversion fail"
    if old is None and using.cast_to is not None and using.cast_to.base not in _NOT_RISKY_UNKNOWN:
        return f"the USING cast fails on any existing value that is not a valid {using.cast_to}"
    return None


def _is_limit(new: PgType) -> bool:
    """A change to a type with a size limit (rather than a conversion that can fail)."""
    return bool(new.mods) or new.base in _INTEGERS or new.base == "real"


def _using(node: object, column: str) -> Using:
    """Classify a USING clause: a cast chain over the column itself (`col::text::status`), or anything else."""
    if not isinstance(node, exp.Expression):
        return NO_USING
    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.Cast):
        return Using("expression")
    target = _sqlglot_type(node.args.get("to"))
    inner = node.this
    while isinstance(inner, exp.Cast | exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Column) and identifier(inner) == column:
        return Using("cast", target)
    return Using("expression")


def _using_text(text: str | None, column: str) -> Using:
    if not text:
        return NO_USING
    import sqlglot  # on first use (see migguard.sql.lazy)
    from sqlglot.errors import SqlglotError

    try:
        return _using(sqlglot.parse_one(text, read="postgres"), column)
    except (SqlglotError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return Using("expression")


def check(context: LintContext) -> Iterator[Violation]:
    types, added = _known_types(context)
    for statement in context.parsed():
        changes: list[tuple[str, str, PgType | None, Using]] = []  # table, column, new type, USING
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                    column = identifier(action.this)
                    changes.append((table, column, _sqlglot_type(action.args.get("dtype")),
                                    _using(action.args.get("using"), column)))
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            table = normalise(statement.command.table)
            for command_action in statement.command.actions:
                if command_action.kind == "alter_column_type" and command_action.name:
                    changes.append((table, command_action.name, parse_type(command_action.type_name or ""),
                                    _using_text(command_action.using, command_action.name)))
        for table, column, new, using in changes:
            if new is None:
                continue
            old = _type_before(types, table, column, statement.index)
            reason = narrowing(old, new, using)
            if reason is None:
                continue
            source = f" from {old}" if old is not None else ""
            yield Violation(
                statement,
                f"Changing {table}.{column}{source} to {new} can lose or reject data: {reason}. It also rewrites "
                f"the table under an {ACCESS_EXCLUSIVE.describe()}.",
                HINT_LIMIT if _is_limit(new) else HINT_CONVERT,
                offset=locate.words(statement, "alter column? {}", column) or 0,
                new_object=(context.is_new_table(table, statement.index)
                            or added.get((table, column), statement.index) < statement.index),
            )


RULE = Rule(
    id="ban-narrowing-type-change",
    default_severity=Severity.ERROR,
    summary="ALTER COLUMN … TYPE to a type that can truncate or fail to convert existing values",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
)

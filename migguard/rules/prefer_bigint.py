"""
## What it does
Flags a primary-key, identity or serial column declared as a 32-bit or 16-bit integer
(`integer`/`int`/`int4`, `smallint`/`int2`, `serial`/`serial4`, `smallserial`/`serial2`) in
`CREATE TABLE` or `ALTER TABLE … ADD COLUMN`, and an `ADD PRIMARY KEY (col)` on such a column
declared earlier in the same file.

## Why it is dangerous
An `integer` key runs out at 2,147,483,647 (a `smallint` at 32,767), and sequences skip values
on every rolled-back insert, so busy tables get there sooner than their row count suggests.
When it happens every insert fails. The fix, `ALTER COLUMN … TYPE bigint`, rewrites the table and
all its indexes under an ACCESS EXCLUSIVE lock, which blocks every read and write of the table,
and the foreign keys that reference the column must be widened the same way.

## Bad
```sql
CREATE TABLE accounts (
    id serial PRIMARY KEY,
    name text NOT NULL
);
```

## Good
```sql
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
```

## When it does not fire
Plain `integer` and `smallint` columns that are not a key, an identity or a serial (counters,
amounts, foreign keys): their range is a modelling choice, not a time bomb. Columns of a composite
primary key, which are usually foreign keys whose width follows the table they reference. Arrays
and domains. A primary key added to a column whose type this file does not declare.

## References
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-SERIAL
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp

from migguard.commands import AlterTable, ColumnInfo, CreateTable
from migguard.findings import Severity
from migguard.parse import Statement
from migguard.rules.base import Rule, Violation
from migguard.rules.context import LintContext, alter_table, identifier, normalise, table_name
from migguard.rules.locks import ACCESS_EXCLUSIVE

# --- columns this file declares: a shared fact of the type rules (prefer-bigint, prefer-identity,
# prefer-text-field, prefer-timestamptz). It belongs in context.py; it lives here until it moves.

# Type names as PostgreSQL's catalog spells them, from any spelling a migration may use.
_ALIASES = {
    "int": "int4", "integer": "int4", "int4": "int4", "smallint": "int2", "int2": "int2",
    "bigint": "int8", "int8": "int8", "serial": "serial4", "serial4": "serial4",
    "smallserial": "serial2", "serial2": "serial2", "bigserial": "serial8", "serial8": "serial8",
    "character varying": "varchar", "varchar": "varchar",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
}
_SQLGLOT_TYPES = {
    exp.DataType.Type.INT: "int4", exp.DataType.Type.SMALLINT: "int2", exp.DataType.Type.BIGINT: "int8",
    exp.DataType.Type.SERIAL: "serial4", exp.DataType.Type.SMALLSERIAL: "serial2",
    exp.DataType.Type.BIGSERIAL: "serial8", exp.DataType.Type.VARCHAR: "varchar",
    exp.DataType.Type.TIMESTAMP: "timestamp", exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
}
# How messages name a canonical type.
SPOKEN = {"int4": "integer", "int2": "smallint", "int8": "bigint", "serial4": "serial", "serial2": "smallserial",
          "serial8": "bigserial", "timestamp": "timestamp without time zone"}
_PG_TYPE = re.compile(r"^(?P<base>.*?)(?:\((?P<mods>[^)]*)\))?(?P<array>(?:\[\d*\])*)$")


@dataclass(frozen=True, slots=True)
class ColumnDecl:
    """A column a statement declares or retypes, with its type as PostgreSQL's catalog names it."""

    statement: Statement
    table: str
    name: str
    type: str  # canonical: int4, int2, serial4, varchar, timestamp, … ; other types as written, lower case
    modifiers: tuple[str, ...] = ()  # varchar(20) → ("20",)
    array: bool = False
    change: str = "create"  # create (CREATE TABLE) | add (ADD COLUMN) | alter (ALTER COLUMN … TYPE)
    primary_key: bool = False  # a column PRIMARY KEY, or the only column of the table's PRIMARY KEY
    identity: bool = False  # GENERATED … AS IDENTITY
    offset: int = 0  # where in the statement text the column is named

    @property
    def spelled(self) -> str:
        text = self.type + (f"({', '.join(self.modifiers)})" if self.modifiers else "")
        return text + ("[]" if self.array else "")

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.name}"


def declared_columns(context: LintContext) -> Iterator[ColumnDecl]:
    """Every column a CREATE TABLE or ALTER TABLE … ADD COLUMN declares, or ALTER COLUMN … TYPE retypes."""
    for statement in context.parsed():
        tree = statement.ast
        command = statement.command
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
            if isinstance(tree.this, exp.Schema) and not _temporary(tree):
                yield from _sqlglot_create(statement, tree.this)
        elif alter_table(statement) is not None:
            yield from _sqlglot_alter(statement, alter_table(statement))
        elif isinstance(command, CreateTable):
            table = normalise(command.table)
            start = max(statement.text.find("("), 0)
            for column in command.columns:
                pk = column.primary_key or command.primary_key == (column.name,)
                yield _from_pg(statement, table, column, "create", pk, _column_offset(statement, column.name, start))
        elif isinstance(command, AlterTable) and command.object_kind == "table":
            table = normalise(command.table)
            for action in command.actions:
                if action.kind == "add_column" and action.column is not None:
                    yield _from_pg(statement, table, action.column, "add", action.column.primary_key,
                                   _add_offset(statement, action.column.name))
                elif action.kind == "alter_column_type" and action.type_name and action.name:
                    info = ColumnInfo(action.name, action.type_name)
                    yield _from_pg(statement, table, info, "alter", False, _alter_offset(statement, action.name))


def _temporary(tree: exp.Create) -> bool:
    properties = tree.args.get("properties")
    return bool(properties) and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)


def _sqlglot_create(statement: Statement, schema: exp.Schema) -> Iterator[ColumnDecl]:
    table = table_name(schema)
    table_key: list[str] = []
    for element in schema.expressions:
        keys = element if isinstance(element, exp.PrimaryKey) else None
        if isinstance(element, exp.Constraint):
            keys = next((e for e in element.expressions if isinstance(e, exp.PrimaryKey)), None)
        if keys is not None:
            table_key = [identifier(k.this if isinstance(k, exp.Ordered) else k) for k in keys.expressions]
    start = max(statement.text.find("("), 0)
    for column in schema.expressions:
        if isinstance(column, exp.ColumnDef):
            name = identifier(column.this)
            yield _from_sqlglot(statement, table, column, "create", table_key == [name],
                                _column_offset(statement, name, start))


def _sqlglot_alter(statement: Statement, tree: exp.Alter) -> Iterator[ColumnDecl]:
    table = table_name(tree.this)
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            name = identifier(action.this)
            yield _from_sqlglot(statement, table, action, "add", False, _add_offset(statement, name))
        elif isinstance(action, exp.AlterColumn) and isinstance(action.args.get("dtype"), exp.DataType):
            name = identifier(action.this)
            type_, modifiers, array = _sqlglot_type(action.args["dtype"])
            yield ColumnDecl(statement, table, name, type_, modifiers, array, "alter",
                             offset=_alter_offset(statement, name))


def _from_sqlglot(statement: Statement, table: str, column: exp.ColumnDef, change: str, table_key: bool,
                  offset: int) -> ColumnDecl:
    kind = column.args.get("kind")
    type_, modifiers, array = _sqlglot_type(kind) if isinstance(kind, exp.DataType) else ("", (), False)
    constraints = [c.kind for c in column.args.get("constraints") or [] if isinstance(c, exp.ColumnConstraint)]
    primary_key = table_key or any(isinstance(c, exp.PrimaryKeyColumnConstraint) for c in constraints)
    identity = any(isinstance(c, exp.GeneratedAsIdentityColumnConstraint) and c.args.get("expression") is None
                   for c in constraints)
    return ColumnDecl(statement, table, identifier(column.this), type_, modifiers, array, change, primary_key,
                      identity, offset)


def _sqlglot_type(dtype: exp.DataType) -> tuple[str, tuple[str, ...], bool]:
    array = False
    while dtype.this == exp.DataType.Type.ARRAY and dtype.expressions:
        if not isinstance(dtype.expressions[0], exp.DataType):
            break
        array, dtype = True, dtype.expressions[0]
    modifiers = tuple((p.this if isinstance(p, exp.DataTypeParam) else p).sql("postgres")
                      for p in dtype.expressions or [])
    if dtype.this in _SQLGLOT_TYPES:
        return _SQLGLOT_TYPES[dtype.this], modifiers, array
    if dtype.this == exp.DataType.Type.USERDEFINED:
        kind = dtype.args.get("kind")
        parts = [identifier(p) for p in (kind.parts if isinstance(kind, exp.Dot) else [kind]) if p is not None]
        if len(parts) == 2 and parts[0] == "pg_catalog":
            parts = parts[1:]
        name = ".".join(parts)
        return _ALIASES.get(name, name), modifiers, array
    name = dtype.sql("postgres").lower()
    return name.split("(")[0].removesuffix("[]"), modifiers, array


def _from_pg(statement: Statement, table: str, column: ColumnInfo, change: str, primary_key: bool,
             offset: int) -> ColumnDecl:
    match = _PG_TYPE.match(column.type_name)
    base = match.group("base") if match else column.type_name
    modifiers = tuple(m.strip() for m in (match.group("mods") or "").split(",") if m.strip()) if match else ()
    return ColumnDecl(statement, table, column.name, _ALIASES.get(base, base), modifiers,
                      bool(match and match.group("array")), change, primary_key, column.identity, offset)


def _name(name: str) -> str:
    """A pattern for a column name as written: a name with upper case must be quoted, case and all."""
    if name != name.lower():
        return rf'(?-i:"{re.escape(name)}")'
    return rf'(?<![\w$"])"?{re.escape(name)}"?(?![\w$])'


def _search(statement: Statement, pattern: str, start: int = 0) -> int:
    match = re.compile(pattern, re.IGNORECASE).search(statement.text, start)
    return match.start() if match else 0


# A column definition starts after "(" or ",", perhaps behind comments.
_ELEMENT_START = r"(?:(?<=[(,])|^)(?:\s|--[^\n]*\n|/\*.*?\*/)*"


def _column_offset(statement: Statement, name: str, start: int) -> int:
    pattern = re.compile(rf"{_ELEMENT_START}({_name(name)})\s", re.IGNORECASE | re.DOTALL | re.MULTILINE)
    match = pattern.search(statement.text, start)
    return match.start(1) if match else _search(statement, _name(name) + r"\s", start)


def _add_offset(statement: Statement, name: str) -> int:
    return _search(statement, rf"\badd\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?{_name(name)}")


def _alter_offset(statement: Statement, name: str) -> int:
    return _search(statement, rf"\balter\s+(?:column\s+)?{_name(name)}\s+(?:set\s+data\s+)?type\b")


# --- the rule ------------------------------------------------------------------------------------

_SMALL = {"int4": "2,147,483,647", "int2": "32,767", "serial4": "2,147,483,647", "serial2": "32,767"}
_HINT = ("Declare it bigint (bigint GENERATED ALWAYS AS IDENTITY for a generated key); the 4 extra bytes per row "
         "cost far less than widening the key later.")


def check(context: LintContext) -> Iterator[Violation]:
    known: dict[tuple[str, str], ColumnDecl] = {}
    flagged: set[tuple[str, str]] = set()
    for column in declared_columns(context):
        key = (column.table, column.name)
        known[key] = column
        if column.change == "alter" or column.array or column.type not in _SMALL:
            continue
        if column.type.startswith("serial"):
            role = f"{SPOKEN[column.type]} column"  # any serial: its sequence feeds the column
        elif column.primary_key:
            role = "primary-key column"
        elif column.identity:
            role = "identity column"
        else:
            continue
        flagged.add(key)
        yield _violation(column.statement, column.offset, f"The {role} {column.qualified}", column)
    yield from _primary_keys_added_later(context, known, flagged)


def _primary_keys_added_later(context: LintContext, known: dict[tuple[str, str], ColumnDecl],
                              flagged: set[tuple[str, str]]) -> Iterator[Violation]:
    """ALTER TABLE … ADD [CONSTRAINT …] PRIMARY KEY (col) on a small-integer column declared in this file."""
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is None:
            continue
        table = table_name(tree.this)
        for action in tree.args.get("actions") or []:
            if not isinstance(action, exp.AddConstraint):
                continue
            for element in action.expressions:
                keys = element if isinstance(element, exp.PrimaryKey) else None
                if isinstance(element, exp.Constraint):
                    keys = next((e for e in element.expressions if isinstance(e, exp.PrimaryKey)), None)
                if keys is None or len(keys.expressions) != 1:
                    continue
                key = (table, identifier(keys.expressions[0]))
                column = known.get(key)
                if (column is None or key in flagged or column.statement.index >= statement.index
                        or column.array or column.type not in _SMALL):
                    continue
                flagged.add(key)
                offset = _search(statement, r"\bprimary\s+key\b")
                yield _violation(statement, offset, f"The primary key {column.qualified} (declared on line "
                                 f"{column.statement.line})", column)


def _violation(statement: Statement, offset: int, subject: str, column: ColumnDecl) -> Violation:
    width = {"serial4": "a 32-bit integer", "serial2": "a 16-bit integer"}.get(column.type, SPOKEN[column.type])
    return Violation(
        statement,
        f"{subject} is {width}, which overflows at {_SMALL[column.type]}; "
        f"widening it later rewrites the table and its indexes under an {ACCESS_EXCLUSIVE.describe()}.",
        _HINT,
        offset=offset,
    )


RULE = Rule(
    id="prefer-bigint",
    default_severity=Severity.WARNING,
    summary="Primary-key, identity and serial columns should be bigint, not integer or smallint",
    family="hygiene",
    doc=__doc__,
    check=check,
)

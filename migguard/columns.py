"""Columns a migration creates, adds or retypes, read the same way from either parser.

Several rules look at column definitions: `ADD COLUMN` (NOT NULL, DEFAULT, serial, identity,
generated), `ALTER COLUMN … TYPE`, and the declared type of every column (`json`). sqlglot types
most of these statements; `commands.AlterTable` / `commands.CreateTable` cover the ones it
rejects. This module reduces both to one shape, and types to one canonical `ColumnType`, so each
rule checks one thing and never looks at which parser answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from migguard.commands import AlterTable, ColumnInfo, CreateTable
from migguard.parse import Statement
from migguard.rules.base import at
from migguard.rules.context import (
    LintContext, alter_table, column_defs, created_table, identifier, normalise, table_name,
)

# sqlglot's type names → PostgreSQL's (the canonical spelling migguard compares and prints).
_SQLGLOT_NAMES = {
    "INT": "integer", "BIGINT": "bigint", "SMALLINT": "smallint", "DECIMAL": "numeric", "VARCHAR": "varchar",
    "CHAR": "char", "BPCHAR": "char", "TEXT": "text", "TIMESTAMP": "timestamp", "TIMESTAMPTZ": "timestamptz",
    "TIME": "time", "TIMETZ": "timetz", "DOUBLE": "double precision", "FLOAT": "real", "BOOLEAN": "boolean",
    "VARBINARY": "bytea", "SERIAL": "serial", "BIGSERIAL": "bigserial", "SMALLSERIAL": "smallserial",
}
# PostgreSQL's internal and SQL-standard spellings → the canonical one.
_ALIASES = {
    "int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint", "character varying": "varchar",
    "bpchar": "char", "character": "char", "decimal": "numeric", "bool": "boolean", "float8": "double precision",
    "float4": "real", "serial4": "serial", "serial8": "bigserial", "serial2": "smallserial",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "time with time zone": "timetz", "time without time zone": "time",
}
_TYPE_TEXT = re.compile(r"^(?P<name>.+?)\s*(?:\((?P<params>[^)]*)\))?\s*(?P<array>(?:\[\d*\])*)$", re.DOTALL)
SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial"})


@dataclass(frozen=True, slots=True)
class ColumnType:
    """A column type in canonical form: `varchar(20)` → name varchar, params ("20",)."""

    name: str
    params: tuple[str, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        text = self.name + (f"({', '.join(self.params)})" if self.params else "")
        return text + ("[]" if self.array else "")

    def int_params(self) -> tuple[int, ...] | None:
        """The typmods as integers, or None when one is not a number."""
        try:
            return tuple(int(p) for p in self.params)
        except ValueError:
            return None


def column_type(node: exp.DataType | str | None) -> ColumnType | None:
    """Canonical type of a sqlglot DataType or of PostgreSQL type text (`int4`, `varchar(10)`, `text[]`)."""
    if node is None:
        return None
    if isinstance(node, str):
        return _from_text(node)
    if not isinstance(node, exp.DataType):
        return None
    if node.this == exp.DataType.Type.ARRAY:
        inner = node.expressions[0] if node.expressions else None
        element = column_type(inner) if isinstance(inner, exp.DataType) else None
        return ColumnType(element.name, element.params, True) if element else None
    if node.this == exp.DataType.Type.USERDEFINED:
        kind = node.args.get("kind")
        name = identifier(kind.expression) if isinstance(kind, exp.Dot) else identifier(kind)
        return ColumnType(_ALIASES.get(name, name))
    if not isinstance(node.this, exp.DataType.Type):  # e.g. INTERVAL DAY: a type with fields
        return ColumnType(node.sql("postgres").lower())
    name = _SQLGLOT_NAMES.get(node.this.name, node.this.name.lower())
    params = tuple(p.name if isinstance(p, exp.DataTypeParam) else p.sql("postgres") for p in node.expressions)
    return ColumnType(name, params)


def _from_text(text: str) -> ColumnType:
    match = _TYPE_TEXT.match(text.strip())
    if match is None:
        return ColumnType(text.strip().lower())
    name = match.group("name").strip().lower().removeprefix("pg_catalog.")
    name = name.rsplit(".", 1)[-1].strip('"') if "." in name else name.strip('"')
    params = tuple(p.strip() for p in (match.group("params") or "").split(",") if p.strip())
    return ColumnType(_ALIASES.get(name, name), params, bool(match.group("array")))


def name_pattern(name: str) -> str:
    """A regex for an identifier as the SQL text spells it, quoted or not (for `base.at`)."""
    quoted = '"' + re.escape(name.replace('"', '""')) + '"'
    return rf"(?:{quoted}|{re.escape(name)}(?![\w$]))"


def add_column_offset(statement: Statement, name: str) -> int:
    return at(statement, rf"\badd\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?{name_pattern(name)}")


def alter_column_offset(statement: Statement, name: str) -> int:
    return at(statement, rf"\balter\s+(?:column\s+)?{name_pattern(name)}")


def expression(text: str | None) -> exp.Expression | None:
    """A SQL expression given as text (as PostgreSQL deparsed it), parsed by sqlglot; None if it cannot."""
    if not text:
        return None
    try:
        select = sqlglot.parse_one(f"SELECT {text}", read="postgres")
    except (SqlglotError, RecursionError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    if isinstance(select, exp.Select) and len(select.expressions) == 1:
        return select.expressions[0]
    return None


# --- ADD COLUMN ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddedColumn:
    """One `ALTER TABLE … ADD COLUMN` of a table (not a view or foreign table)."""

    statement: Statement
    table: str
    name: str
    type: ColumnType | None
    type_text: str  # as written, for messages
    not_null: bool = False  # NOT NULL or PRIMARY KEY
    default: exp.Expression | None = None  # the explicit DEFAULT (exp.Null for DEFAULT NULL)
    default_text: str | None = None  # the DEFAULT as text, also when sqlglot could not read it
    identity: bool = False  # GENERATED … AS IDENTITY
    generated: str | None = None  # GENERATED ALWAYS AS (…): "stored" or "virtual"
    if_not_exists: bool = False

    @property
    def has_default(self) -> bool:
        """An explicit DEFAULT other than NULL."""
        if self.default is not None:
            return not isinstance(self.default, exp.Null)
        return bool(self.default_text) and self.default_text.strip().upper() != "NULL"

    @property
    def serial(self) -> bool:
        return self.type is not None and not self.type.array and self.type.name in SERIAL_TYPES


def added_columns(context: LintContext) -> Iterator[AddedColumn]:
    """Every column an ALTER TABLE of this file adds, in file order."""
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef):
                    yield _from_sqlglot(statement, table, action)
        elif isinstance(statement.command, AlterTable) and statement.command.object_kind == "table":
            table = normalise(statement.command.table)
            for act in statement.command.actions:
                if act.kind == "add_column" and act.column is not None:
                    yield _from_info(statement, table, act.column, act.missing_ok)


def _from_sqlglot(statement: Statement, table: str, column: exp.ColumnDef) -> AddedColumn:
    kind = column.args.get("kind")
    not_null = identity = False
    generated: str | None = None
    default: exp.Expression | None = None
    for constraint in column.args.get("constraints") or []:
        detail = constraint.args.get("kind")
        if isinstance(detail, exp.NotNullColumnConstraint) and not detail.args.get("allow_null"):
            not_null = True
        elif isinstance(detail, exp.PrimaryKeyColumnConstraint):
            not_null = True
        elif isinstance(detail, exp.DefaultColumnConstraint):
            default = detail.this
        elif isinstance(detail, exp.ComputedColumnConstraint):
            generated = "stored"
        elif isinstance(detail, exp.GeneratedAsIdentityColumnConstraint):
            if detail.args.get("expression") is not None:  # GENERATED ALWAYS AS (…) without STORED
                generated = "virtual"
            else:
                identity = True
    return AddedColumn(statement, table, identifier(column.this), column_type(kind),
                       kind.sql("postgres").lower() if kind is not None else "", not_null, default,
                       default.sql("postgres") if default is not None else None, identity, generated,
                       bool(column.args.get("exists")))


def _from_info(statement: Statement, table: str, info: ColumnInfo, missing_ok: bool) -> AddedColumn:
    return AddedColumn(statement, table, info.name, column_type(info.type_name), info.type_name, info.not_null,
                       expression(info.default), info.default, info.identity, info.generated, missing_ok)


# --- ALTER COLUMN … TYPE ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetypedColumn:
    """One `ALTER TABLE … ALTER COLUMN … TYPE` of a table."""

    statement: Statement
    table: str
    name: str
    type: ColumnType | None
    using: bool


def retyped_columns(context: LintContext) -> Iterator[RetypedColumn]:
    for statement in context.parsed():
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                    yield RetypedColumn(statement, table, identifier(action.this), column_type(action.args["dtype"]),
                                        bool(action.args.get("using")))
        elif isinstance(statement.command, AlterTable) and statement.command.object_kind == "table":
            table = normalise(statement.command.table)
            for act in statement.command.actions:
                if act.kind == "alter_column_type":
                    yield RetypedColumn(statement, table, act.name or "", column_type(act.type_name), bool(act.using))


# --- CREATE TABLE ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeclaredColumn:
    """A column and its type as some statement of the file declares it."""

    statement: Statement
    table: str
    name: str
    type: ColumnType | None
    how: str = field(default="create")  # create | add | alter


def created_columns(context: LintContext) -> Iterator[DeclaredColumn]:
    """Columns of every CREATE TABLE in the file."""
    for statement in context.parsed():
        table = created_table(statement)
        if not table:
            continue
        if isinstance(statement.command, CreateTable):
            for info in statement.command.columns:
                yield DeclaredColumn(statement, table, info.name, column_type(info.type_name))
        else:
            for column in column_defs(statement):
                yield DeclaredColumn(statement, table, identifier(column.this), column_type(column.args.get("kind")))


def declared_columns(context: LintContext) -> Iterator[DeclaredColumn]:
    """Every column type the file declares (CREATE TABLE, ADD COLUMN, ALTER COLUMN … TYPE), in file order."""
    found = [*created_columns(context)]
    found += [DeclaredColumn(c.statement, c.table, c.name, c.type, "add") for c in added_columns(context)]
    found += [DeclaredColumn(c.statement, c.table, c.name, c.type, "alter") for c in retyped_columns(context)]
    return iter(sorted(found, key=lambda c: c.statement.index))

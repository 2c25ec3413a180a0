"""Columns a migration creates, adds or retypes, read the same way from either parser.

Several rules look at column definitions: `ADD COLUMN` (NOT NULL, DEFAULT, serial, identity,
generated), `ALTER COLUMN … TYPE`, and the declared type of every column (`json`, `varchar(n)`,
`timestamp`, integer keys, serials: `declared_columns`). sqlglot types most of these statements;
`commands.AlterTable` / `commands.CreateTable` cover the ones it rejects. This module reduces both
to one shape, and types to one canonical `ColumnType`, so each rule checks one thing and never
looks at which parser answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from migguard.lint.context import (
    ALTER_TABLE_KINDS, LintContext, alter_table, column_defs, created_table, identifier, normalise, table_name,
)
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement, postgres_sql
from migguard.sql.shapes import AlterTable, ColumnInfo, CreateTable

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
    params = tuple(p.name if isinstance(p, exp.DataTypeParam) else postgres_sql(p) for p in node.expressions)
    if node.this == exp.DataType.Type.USERDEFINED:  # pg_catalog.varchar(5), int4, a domain, …
        kind = node.args.get("kind")
        name = identifier(kind.expression) if isinstance(kind, exp.Dot) else identifier(kind)
        return ColumnType(_ALIASES.get(name, name), params)
    if not isinstance(node.this, exp.DataType.Type):  # e.g. INTERVAL DAY: a type with fields
        return ColumnType(postgres_sql(node).lower())
    return ColumnType(_SQLGLOT_NAMES.get(node.this.name, node.this.name.lower()), params)


def _from_text(text: str) -> ColumnType:
    match = _TYPE_TEXT.match(text.strip())
    if match is None:
        return ColumnType(text.strip().lower())
    name = match.group("name").strip().lower().removeprefix("pg_catalog.")
    name = name.rsplit(".", 1)[-1].strip('"') if "." in name else name.strip('"')
    params = tuple(p.strip() for p in (match.group("params") or "").split(",") if p.strip())
    return ColumnType(_ALIASES.get(name, name), params, bool(match.group("array")))


def add_column_offset(statement: Statement, name: str) -> int:
    """ADD [COLUMN] [IF NOT EXISTS] name (an ALTER TABLE action has no location in PostgreSQL's tree)."""
    return locate.words(statement, "add column? if? not? exists? {}", name) or 0


def alter_column_offset(statement: Statement, name: str, then: str = "") -> int:
    """ALTER [COLUMN] name, followed by `then` (keywords, as `locate.words` reads them) when given."""
    return locate.words(statement, f"alter column? {{}} {then}", name) or 0


def expression(text: str | None) -> exp.Expression | None:
    """A SQL expression given as text (as PostgreSQL deparsed it), parsed by sqlglot; None if it cannot."""
    if not text:
        return None
    import sqlglot  # on first use (see migguard.sql.lazy)
    from sqlglot.errors import SqlglotError

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
    not_null: bool = False  # NOT NULL or PRIMARY KEY
    default: exp.Expression | None = None  # the explicit DEFAULT (exp.Null for DEFAULT NULL)
    # PostgreSQL's text of the DEFAULT, for a statement read from PostgreSQL's tree (read by sqlglot, `default`
    # says all and is not turned back into text: None)
    default_text: str | None = None
    identity: bool = False  # GENERATED … AS IDENTITY
    generated: str | None = None  # GENERATED ALWAYS AS (…): "stored" or "virtual"
    if_not_exists: bool = False
    primary_key: bool = False  # a column PRIMARY KEY

    @property
    def has_default(self) -> bool:
        """An explicit DEFAULT other than NULL."""
        if self.default is not None:
            return not isinstance(self.default, exp.Null)
        return bool(self.default_text) and self.default_text.strip().upper() != "NULL"

    @property
    def serial(self) -> bool:
        return self.type is not None and not self.type.array and self.type.name in SERIAL_TYPES


def _changes(context: LintContext) -> list[tuple[Statement, list[AddedColumn | RetypedColumn]]]:
    """Each statement's column changes, read once per file."""
    return context.memo("columns.changes",
                        lambda: [(s, list(_column_changes(s))) for s in context.accepted()])


def added_columns(context: LintContext) -> Iterator[AddedColumn]:
    """Every column an ALTER TABLE of this file adds, in file order."""
    for _statement, changes in _changes(context):
        yield from (c for c in changes if isinstance(c, AddedColumn))


def _from_sqlglot(statement: Statement, table: str, column: exp.ColumnDef) -> AddedColumn:
    kind = column.args.get("kind")
    not_null = identity = primary_key = False
    generated: str | None = None
    default: exp.Expression | None = None
    for constraint in column.args.get("constraints") or []:
        detail = constraint.args.get("kind")
        if isinstance(detail, exp.NotNullColumnConstraint) and not detail.args.get("allow_null"):
            not_null = True
        elif isinstance(detail, exp.PrimaryKeyColumnConstraint):
            not_null = primary_key = True
        elif isinstance(detail, exp.DefaultColumnConstraint):
            default = detail.this
        elif isinstance(detail, exp.ComputedColumnConstraint):
            generated = "stored"
        elif isinstance(detail, exp.GeneratedAsIdentityColumnConstraint):
            if detail.args.get("expression") is not None:  # GENERATED ALWAYS AS (…) without STORED
                generated = "virtual"
            else:
                identity = True
    return AddedColumn(statement, table, identifier(column.this), column_type(kind), not_null, default, None,
                       identity, generated, bool(column.args.get("exists")), primary_key)


def _from_info(statement: Statement, table: str, info: ColumnInfo, missing_ok: bool) -> AddedColumn:
    return AddedColumn(statement, table, info.name, column_type(info.type_name), info.not_null,
                       expression(info.default), info.default, info.identity, info.generated, missing_ok,
                       info.primary_key)


# --- ALTER COLUMN … TYPE ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetypedColumn:
    """One `ALTER TABLE … ALTER COLUMN … TYPE` of a table."""

    statement: Statement
    table: str
    name: str
    type: ColumnType | None
    using: bool  # a USING expression other than the column cast to its new type (which is no USING at all)


def retyped_columns(context: LintContext) -> Iterator[RetypedColumn]:
    for _statement, changes in _changes(context):
        yield from (c for c in changes if isinstance(c, RetypedColumn))


def _column_changes(statement: Statement) -> Iterator[AddedColumn | RetypedColumn]:
    """The ADD COLUMN and ALTER COLUMN … TYPE actions of an ALTER TABLE of a table, in the order written."""
    if statement.node_kind not in ALTER_TABLE_KINDS:  # neither sqlglot's nor PostgreSQL's ALTER TABLE
        return
    tree = alter_table(statement)
    if tree is not None:
        table = table_name(tree.this)
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):
                yield _from_sqlglot(statement, table, action)
            elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                name, new = identifier(action.this), column_type(action.args["dtype"])
                yield RetypedColumn(statement, table, name, new, _transforms(action.args.get("using"), name, new))
    elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
        table = normalise(statement.command.table)
        for act in statement.command.actions:
            if act.kind == "add_column" and act.column is not None:
                yield _from_info(statement, table, act.column, act.missing_ok)
            elif act.kind == "alter_column_type":
                new = column_type(act.type_name)
                using = expression(act.using) if act.using else None
                yield RetypedColumn(statement, table, act.name or "", new,
                                    bool(act.using) and (using is None or _transforms(using, act.name or "", new)))


def _transforms(using: object, column: str, new: ColumnType | None) -> bool:
    """Does a USING clause do more than cast the column to its new type (`USING col::text` for TYPE text)?"""
    if not isinstance(using, exp.Expression):
        return False  # no USING (sqlglot leaves False there)
    while isinstance(using, exp.Paren):
        using = using.this
    if not isinstance(using, exp.Cast) or new is None or column_type(using.args.get("to")) != new:
        return True
    inner = using.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    return not (isinstance(inner, exp.Column) and not inner.table and identifier(inner) == column)


# --- every column the file declares: CREATE TABLE, ADD COLUMN, ALTER COLUMN … TYPE -----------------------


@dataclass(frozen=True, slots=True)
class DeclaredColumn:
    """A column and its type as some statement of the file declares it (the type rules' shared view)."""

    statement: Statement
    table: str
    name: str
    type: ColumnType | None
    how: str = "create"  # create (CREATE TABLE) | add (ADD COLUMN) | alter (ALTER COLUMN … TYPE)
    primary_key: bool = False  # a column PRIMARY KEY, or the only column of the table's PRIMARY KEY
    identity: bool = False  # GENERATED … AS IDENTITY
    temporary: bool = False  # a column of a CREATE TEMP TABLE (as sqlglot reads it)

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.name}"

    @property
    def offset(self) -> int:
        """Where in the statement text the column is named: its definition, ADD [COLUMN] or ALTER [COLUMN] … TYPE."""
        if self.how == "add":
            return add_column_offset(self.statement, self.name)
        if self.how == "alter":
            return alter_column_offset(self.statement, self.name, then="set? data? type")
        # PostgreSQL's tree places a column definition at its name
        found = locate.node_offset(self.statement, "ColumnDef", colname=locate.stored(self.name))
        if found is None:
            found = locate.words(self.statement, "{}", self.name, after=max(self.statement.text.find("("), 0))
        return found or 0


def declared_columns(context: LintContext) -> list[DeclaredColumn]:
    """Every column type the file declares (CREATE TABLE, ADD COLUMN, ALTER COLUMN … TYPE), in file order."""
    return context.memo("columns.declared", lambda: list(_declared(context)))


def _declared(context: LintContext) -> Iterator[DeclaredColumn]:
    created = dict(_created_by_statement(context))
    for statement, changes in _changes(context):
        yield from created.get(statement.index, ())
        for change in changes:
            if isinstance(change, AddedColumn):
                yield DeclaredColumn(statement, change.table, change.name, change.type, "add", change.primary_key,
                                     change.identity)
            else:
                yield DeclaredColumn(statement, change.table, change.name, change.type, "alter")


def created_columns(context: LintContext) -> Iterator[DeclaredColumn]:
    """Columns of every CREATE TABLE in the file."""
    for _index, columns in _created_by_statement(context):
        yield from columns


def _created_by_statement(context: LintContext) -> list[tuple[int, list[DeclaredColumn]]]:
    return context.memo("columns.created",
                        lambda: [(s.index, list(_created(s))) for s in context.accepted()])


def _created(statement: Statement) -> Iterator[DeclaredColumn]:
    table = created_table(statement)
    if not table:
        return
    command = statement.command
    if isinstance(command, CreateTable):
        for info in command.columns:
            primary_key = info.primary_key or command.primary_key == (info.name,)
            yield DeclaredColumn(statement, table, info.name, column_type(info.type_name), "create", primary_key,
                                 info.identity)
        return
    schema = statement.ast.this
    keys = [k for k in map(primary_key_columns, schema.expressions) if k is not None] \
        if isinstance(schema, exp.Schema) else []
    table_key = keys[-1] if keys else None
    temporary = _temporary(statement.ast)
    for column in column_defs(statement):
        added = _from_sqlglot(statement, table, column)  # a column definition reads the same in CREATE TABLE
        yield DeclaredColumn(statement, table, added.name, added.type, "create",
                             added.primary_key or table_key == [added.name], added.identity, temporary)


def primary_key_columns(element: exp.Expression) -> list[str] | None:
    """The columns of a table-level PRIMARY KEY (named or not) of CREATE TABLE or ADD CONSTRAINT, else None."""
    keys = element if isinstance(element, exp.PrimaryKey) else None
    if isinstance(element, exp.Constraint):
        keys = next((e for e in element.expressions if isinstance(e, exp.PrimaryKey)), None)
    if keys is None:
        return None
    return [identifier(k.this if isinstance(k, exp.Ordered) else k) for k in keys.expressions]


def _temporary(tree: exp.Create) -> bool:
    properties = tree.args.get("properties")
    return bool(properties) and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)


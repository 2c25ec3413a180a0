"""What every check can know about the file it looks at, computed once per file.

Checks are pure functions of a LintContext: the statements plus shared facts (tables created
earlier in the migration, whether a statement runs in a transaction, whether a lock_timeout is in
force when it runs, the tables that carry the tenant column, the target PostgreSQL version). Facts
that two rules need live here, not in them; the richer column and DDL facts live in `columns.py`
and `ddl.py`, and the DML facts in `dml.py`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from migguard.lint.settings import LintSettings, project_path  # noqa: F401  (re-exported: callers import them here)
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement, identifier, postgres_sql  # noqa: F401  (rules read identifier from here)
from migguard.sql.shapes import AlterTable, CreateTable, CreateView, Other, Policy
from migguard.sql.transactions import (
    Wrapper,
    is_transaction_end,
    is_transaction_start,
    whole_file_wrapper,
)

_TIMEOUT_SETTING = re.compile(r"\block_timeout\b", re.IGNORECASE)
# `= 0`, `TO '0s'`, `TO DEFAULT`, set_config('lock_timeout', '0', …): the timeout switched off.
_TIMEOUT_OFF = re.compile(r"\block_timeout\b'?\s*(?:=|\bto\b|,)\s*'?\s*"
                          r"(?:0+(?:\.0*)?\s*(?:us|ms|s|min|h|d)?|default)\s*'?\s*(?:[,;)]|$)", re.IGNORECASE)
_TEMPORARY = re.compile(r"^\s*create\s+(global\s+|local\s+)?temp(orary)?\b", re.IGNORECASE)


T = TypeVar("T")


def normalise(name: str) -> str:
    """Compare names the way PostgreSQL resolves them with the default search_path."""
    return name.removeprefix("public.")


def quote_name(name: str) -> str:
    """A policy or object name as it would be written in SQL: quoted unless it is a plain lower-case identifier."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def display(name: str) -> str:
    """A (schema-qualified) relation name for messages, quoted where SQL would need it."""
    return ".".join(quote_name(part) for part in name.split("."))


def table_name(node: exp.Expression | None) -> str:
    """`schema.table` (or `table`) of a sqlglot Table, normalised."""
    if node is None:
        return ""
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table):
        return identifier(node)
    parts = [identifier(node.args.get(key)) for key in ("catalog", "db") if node.args.get(key)]
    parts.append(identifier(node.this))
    return normalise(".".join(parts))


# PostgreSQL's node kinds of the statements sqlglot reads as ALTER TABLE: asked first, the kind saves
# parsing every other statement with sqlglot only to find it is not one.
ALTER_TABLE_KINDS = frozenset({"AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt"})


def alter_table(statement: Statement) -> exp.Alter | None:
    """The statement's sqlglot ALTER TABLE, if it is one."""
    if statement.node_kind not in ALTER_TABLE_KINDS:
        return None
    tree = statement.ast  # None when PostgreSQL's tree alone answered (see parse.Trees): no sqlglot needed then
    if tree is not None and isinstance(tree, exp.Alter) and (tree.args.get("kind") or "").upper() == "TABLE":
        return tree
    return None


# PostgreSQL's node kinds of the statements sqlglot reads as CREATE TYPE.
CREATE_TYPE_KINDS = frozenset({"CreateEnumStmt", "CompositeTypeStmt", "DefineStmt", "CreateRangeStmt"})


# PostgreSQL's node kinds of the statements that create or alter a policy.
_POLICY_KINDS = frozenset({"CreatePolicyStmt", "AlterPolicyStmt"})


# PostgreSQL's node kinds of the statements that create a table (or a materialized view).
CREATE_TABLE_KINDS = frozenset({"CreateStmt", "CreateTableAsStmt", "CreateForeignTableStmt"})


def created_table(statement: Statement) -> str | None:
    """Name of the table a CREATE TABLE statement creates, from either parser."""
    if statement.node_kind not in CREATE_TABLE_KINDS:
        return None
    tree = statement.ast
    if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
        return table_name(tree.this)
    if isinstance(statement.command, CreateTable):
        return normalise(statement.command.table)
    return None


def created_relation(statement: Statement) -> str | None:
    """Name of the table or materialized view a statement creates: CREATE TABLE (also `… AS`, and the
    `CREATE TEMP TABLE … ON COMMIT DROP AS SELECT` only PostgreSQL's parser reads) or CREATE MATERIALIZED VIEW."""
    name = created_table(statement)
    if name or statement.node_kind not in CREATE_TABLE_KINDS:  # a materialized view is a CreateTableAsStmt
        return name
    tree, command = statement.ast, statement.command
    if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "VIEW":
        properties = tree.args.get("properties")
        if properties is not None and any(isinstance(p, exp.MaterializedProperty) for p in properties.expressions):
            return table_name(tree.this)
    elif isinstance(command, CreateView) and command.materialized:
        return normalise(command.name)
    elif isinstance(command, Other) and command.node_type == "CreateTableAsStmt":
        return normalise(command.details.get("name") or "") or None
    return None


def if_not_exists(statement: Statement) -> bool:
    """CREATE … IF NOT EXISTS: it may create nothing, leaving an existing object in place."""
    tree, command = statement.ast, statement.command
    if tree is not None and isinstance(tree, exp.Create):
        return bool(tree.args.get("exists"))
    return bool(getattr(command, "if_not_exists", False))


def lock_timeout_setting(statement: Statement) -> bool | None:
    """What a statement does to lock_timeout: True when it sets a timeout, False when it switches it off
    (`= 0`, `TO DEFAULT`, `RESET`, `set_config('lock_timeout', '0', …)`), None when it leaves it alone."""
    head = statement.text.lstrip()[:6].upper()  # the longest keyword asked about; not the whole text
    if not _TIMEOUT_SETTING.search(statement.text) or not (  # the text first: it answers without sqlglot
            head.startswith(("SET", "SELECT", "RESET")) or isinstance(statement.ast, exp.Set)):
        return None
    return not (head.startswith("RESET") or _TIMEOUT_OFF.search(statement.text))


def is_temporary(statement: Statement) -> bool:
    """CREATE [GLOBAL | LOCAL] TEMP[ORARY] …: it lives for one session, and no tenant reads it."""
    return bool(_TEMPORARY.match(statement.text))


def column_defs(statement: Statement) -> list[exp.ColumnDef]:
    """Column definitions of a sqlglot CREATE TABLE."""
    tree = statement.ast
    if tree is not None and isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        return [c for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
    return []


@dataclass
class LintContext:
    """The statements of one migration and the facts the rules share."""

    path: str
    statements: tuple[Statement, ...]
    settings: LintSettings = field(default_factory=LintSettings)
    text: str = ""  # the whole file as linted (header comments included)
    # For the destructive rules: a table created with IF NOT EXISTS is not new (it may be production's,
    # full of rows). The lock rules keep the idempotent CREATE TABLE IF NOT EXISTS … CREATE INDEX idiom quiet.
    surely_new: bool = False
    # The node kinds the rule now running declares (Rule.kinds): `parsed()` hands it only those, so the
    # statements it cannot judge are never parsed with sqlglot for it. None: every statement.
    kinds: frozenset[str] | None = None

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A fact of the file computed once per context: several rules ask for it, some once per statement."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def parsed(self) -> Iterator[Statement]:
        """The statements PostgreSQL accepts (syntax errors are reported once, by lint) of the node kinds
        the running rule handles: the engine dispatches each statement only to the rules that ask for it."""
        if self.kinds is None:
            return self.accepted()
        kinds = self.kinds
        return (s for s in self.statements if s.syntax_error is None and s.node_kind in kinds)

    def accepted(self) -> Iterator[Statement]:
        """Every statement PostgreSQL accepts, whichever rule asks: the shared facts read these."""
        return (s for s in self.statements if s.syntax_error is None)

    @cached_property
    def write_path(self) -> str | None:
        """The configured write path (migrations or seeds directory) the file lies in, else None.
        Compared by the path as given, normalised (`..` folded), without touching the file system."""
        file = os.path.abspath(self.path)
        for directory in self.settings.write_paths:
            base = os.path.abspath(directory)
            try:
                if os.path.commonpath([file, base]) == base and file != base:
                    return directory
            except ValueError:  # another drive (Windows)
                continue
        return None

    @property
    def is_file(self) -> bool:
        """Does the path name a file (not `<stdin>` or another placeholder)?"""
        return bool(self.path) and not (self.path.startswith("<") and self.path.endswith(">"))

    # --- tables created in this migration ---------------------------------------------------

    @cached_property
    def created_tables(self) -> dict[str, int]:
        """Table (or materialized view) name → index of the statement that creates it in this file.

        A creation inside an IF, a loop or an exception handler of a DO block does not count; with
        `surely_new`, neither does `IF NOT EXISTS`.
        """
        created: dict[str, int] = {}
        for statement in self.statements:
            if statement.origin is not None and statement.origin.conditional:
                continue
            name = created_relation(statement)
            if name and name not in created and not (self.surely_new and if_not_exists(statement)):
                created[name] = statement.index
        return created

    def is_new_table(self, name: str, before: int) -> bool:
        """Was `name` created in this migration, before statement `before`?"""
        index = self.created_tables.get(normalise(name))
        return index is not None and index < before

    # --- transactions ------------------------------------------------------------------------

    @cached_property
    def has_concurrently(self) -> bool:
        """A CONCURRENTLY statement: migguard then runs the file statement by statement (SPEC 2)."""
        return any(s.runs_concurrently for s in self.statements if s.origin is None)

    @cached_property
    def wrapped_by_runner(self) -> bool:
        """migguard runs the file in one transaction (SPEC: except a file with CONCURRENTLY)."""
        return self.settings.assume_in_transaction and not self.has_concurrently

    @cached_property
    def wrapper(self) -> Wrapper | None:
        """The file's whole-file `BEGIN; … COMMIT;`, when it has one. In a file migguard wraps, the wrapper is
        not nested: the body runs in migguard's transaction, and the file reads as one transaction."""
        return whole_file_wrapper(self.statements)

    @cached_property
    def explicit_transaction(self) -> tuple[bool, ...]:
        """For each statement: is it inside an explicit BEGIN … COMMIT of the file?"""
        inside, flags = False, []
        for statement in self.statements:
            if is_transaction_start(statement):
                flags.append(inside)
                inside = True
                continue
            if is_transaction_end(statement):
                flags.append(inside)
                inside = False
                continue
            flags.append(inside)
        return tuple(flags)

    def in_transaction(self, index: int) -> bool:
        """Does statement `index` run inside a transaction, explicit or the runner's?"""
        return self.wrapped_by_runner or self.explicit_transaction[index]

    def later_in_transaction(self, index: int) -> Iterator[Statement]:
        """The statements after `index` that run in the same transaction (none when it runs alone)."""
        if not self.in_transaction(index):
            return
        for statement in self.statements[index + 1:]:
            if is_transaction_end(statement) or is_transaction_start(statement):
                return
            yield statement

    # --- timeouts ------------------------------------------------------------------------------

    @cached_property
    def lock_timeout_in_force(self) -> tuple[bool, ...]:
        """For each statement: is a lock timeout in force when it runs? One is after `SET [LOCAL] lock_timeout`
        or `set_config('lock_timeout', …)`, until `0`, `DEFAULT` or `RESET` switches it off (pg_dump output
        starts with `SET lock_timeout = 0`)."""
        in_force, flags = False, []
        for statement in self.statements:
            flags.append(in_force)
            setting = lock_timeout_setting(statement)
            if setting is not None:
                in_force = setting
        return tuple(flags)

    def lock_timeout_before(self, index: int) -> bool:
        """Is a lock timeout in force when statement `index` runs?"""
        return self.lock_timeout_in_force[index]

    # --- tenancy ---------------------------------------------------------------------------------

    @cached_property
    def tenant_tables(self) -> dict[str, TenantTable]:
        """Tables that have the tenant column because of this migration: created with it (also by CREATE TABLE
        … AS SELECT), given it by ADD COLUMN (from either parser), or created as a partition of such a table.

        Temporary tables are left out: they live for one session and no tenant reads them.
        """
        column = self.settings.tenant_column
        statements = {s.index: s for s in self.statements}
        found: dict[str, TenantTable] = {}
        for name, index in _declared_tenant_tables(self.accepted(), column).items():
            statement = statements[index]
            if created_table(statement) and is_temporary(statement):
                continue
            how = "create" if created_table(statement) else "add_column"
            found[name] = TenantTable(name, statement, how, _tenant_column_type(statement, column))
        for statement in self.accepted():
            if statement.node_kind not in CREATE_TABLE_KINDS and statement.node_kind != "AlterTableStmt":
                continue  # neither creates a table nor adds a column
            name = created_table(statement)
            if name and name not in found and column in _query_columns(statement) and not is_temporary(statement):
                found[name] = TenantTable(name, statement, "create")
            command = statement.command
            if isinstance(command, AlterTable) and command.object_kind == "table":
                for action in command.actions:
                    if action.kind == "add_column" and action.name == column:
                        name = normalise(command.table)
                        if name not in found:
                            found[name] = TenantTable(name, statement, "add_column", action.type_name)
            parent = _partition_parent(statement)
            child = created_table(statement)
            if parent and child and parent in found and child not in found:
                found[child] = TenantTable(child, statement, "partition", found[parent].type_name, parent)
        return found

    @cached_property
    def row_security(self) -> dict[str, set[str]]:
        """Table → the row-security actions (enable/force/disable/no_force) this file takes on it."""
        actions: dict[str, set[str]] = {}
        for statement in self.accepted():
            command = statement.command
            if isinstance(command, AlterTable):
                for action in command.actions:
                    if action.kind.endswith("row_security"):
                        actions.setdefault(normalise(command.table), set()).add(action.kind)
        return actions

    @cached_property
    def policies(self) -> dict[str, list[Policy]]:
        """Table → the policies this file creates or alters on it."""
        found: dict[str, list[Policy]] = {}
        for statement in self.accepted():
            if statement.node_kind not in _POLICY_KINDS:  # the kind answers without parsing further
                continue
            if isinstance(statement.command, Policy) and statement.command.action != "drop":
                found.setdefault(normalise(statement.command.table), []).append(statement.command)
        return found


# --- tenancy facts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TenantTable:
    """A table that has the tenant column because of this migration (shared by the tenancy rules)."""

    name: str
    statement: Statement  # the CREATE TABLE / ALTER TABLE … ADD COLUMN / CREATE TABLE … PARTITION OF
    how: str  # create | add_column | partition
    type_name: str | None = None  # the tenant column's type, when the statement names it
    parent: str | None = None  # for a partition: the tenant table it belongs to

    def offset(self, column: str) -> int:
        """Where the finding points: the ADD COLUMN clause, else the start of the statement."""
        if self.how == "add_column":
            return locate.words(self.statement, "add column? if? not? exists? {}", column) or 0
        return 0

    def describe(self, column: str) -> str:
        """How the table became a tenant table, for messages."""
        if self.how == "partition":
            return f"Partition {display(self.name)} of tenant table {display(self.parent or '')}"
        if self.how == "add_column":
            return f"Table {display(self.name)}, which this migration gives the tenant column {column},"
        return f"Tenant table {display(self.name)} (it has the tenant column {column})"


def _declared_tenant_tables(statements: Iterator[Statement], column: str) -> dict[str, int]:
    """Tables a CREATE TABLE declares with the tenant column, or a typed ADD COLUMN gives it: name → statement index."""
    found: dict[str, int] = {}
    for statement in statements:
        name = created_table(statement)
        if name:
            names = {identifier(c.this) for c in column_defs(statement)}
            if isinstance(statement.command, CreateTable):
                names = {c.name for c in statement.command.columns}
            if column in names:
                found.setdefault(name, statement.index)
            continue
        tree = alter_table(statement)
        if tree is not None:
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef) and identifier(action.this) == column:
                    found.setdefault(table_name(tree.this), statement.index)
    return found


def _query_columns(statement: Statement) -> set[str]:
    """Columns of a CREATE TABLE … AS SELECT: its column list, else the names the query outputs."""
    tree = statement.ast
    query = tree.args.get("expression") if tree is not None and isinstance(tree, exp.Create) else None
    if not isinstance(query, exp.Query):
        return set()
    if isinstance(tree.this, exp.Schema) and tree.this.expressions:
        return {identifier(c.this if isinstance(c, exp.ColumnDef) else c) for c in tree.this.expressions}
    names = set()
    for select in query.selects:
        if isinstance(select, exp.Alias):
            names.add(identifier(select.args.get("alias")))
        elif isinstance(select, exp.Column):
            names.add(identifier(select.this))
    return names


def _partition_parent(statement: Statement) -> str | None:
    tree = statement.ast
    if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
        properties = tree.args.get("properties")
        for prop in properties.expressions if properties is not None else []:
            if isinstance(prop, exp.PartitionedOfProperty):
                return table_name(prop.this)
    if isinstance(statement.command, CreateTable) and statement.command.partition_of:
        return normalise(statement.command.partition_of)
    return None


def _tenant_column_type(statement: Statement, column: str) -> str | None:
    for definition in column_defs(statement):
        if identifier(definition.this) == column and definition.args.get("kind") is not None:
            return postgres_sql(definition.args["kind"]).lower()
    if isinstance(statement.command, CreateTable):
        for info in statement.command.columns:
            if info.name == column:
                return info.type_name or None
    tree = alter_table(statement)
    for action in (tree.args.get("actions") or []) if tree is not None else []:
        if isinstance(action, exp.ColumnDef) and identifier(action.this) == column and action.args.get("kind"):
            return postgres_sql(action.args["kind"]).lower()
    return None

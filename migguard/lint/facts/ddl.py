"""What the DDL of a migration does to tables, read the same way from either parser.

The lock rules ask the same questions of every statement: which table does it lock and how
strongly, which constraints does it add (validated or NOT VALID, building an index or USING an
existing one), which constraints does it validate, which columns does it SET NOT NULL, which indexes
does it create, and which transaction does it run in. sqlglot types most of these statements;
`commands.AlterTable` and friends cover the ones it rejects. This module reduces both to one shape,
as `columns.py` does for column definitions, so each rule checks one thing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from migguard.core import locks
from migguard.core.locks import Lock
from migguard.lint.context import (
    LintContext, alter_table, identifier, is_transaction_end, is_transaction_start, normalise, table_name,
)
from migguard.lint.facts import columns
from migguard.sql import locate
from migguard.sql.lazy import exp
from migguard.sql.parse import Statement
from migguard.sql.shapes import AlterTable, CreateIndex, DropObjects, Maintenance, Policy, Rename

T = TypeVar("T")

# Weakest first: the strongest lock of a statement's actions is the one it holds.
_ORDER = (locks.ROW_EXCLUSIVE, locks.SHARE_UPDATE_EXCLUSIVE, locks.SHARE, locks.SHARE_ROW_EXCLUSIVE,
          locks.EXCLUSIVE, locks.ACCESS_EXCLUSIVE)
# ALTER TABLE actions that cannot share one statement with other actions (PostgreSQL's ALTER TABLE docs).
_ALONE = frozenset({"attach_partition", "detach_partition", "detach_partition_finalize"})
_RENAMES = frozenset({"table", "column", "tabconstraint"})  # ALTER TABLE … RENAME [COLUMN | CONSTRAINT]


def strongest(found: list[Lock]) -> Lock:
    return max(found, key=_ORDER.index) if found else locks.ACCESS_EXCLUSIVE


def _memo(context: LintContext, key: str, compute: Callable[[LintContext], T]) -> T:
    return context.memo(f"ddl.{key}", lambda: compute(context))


# --- transactions --------------------------------------------------------------------------------------


def transaction_ids(context: LintContext) -> tuple[int | None, ...]:
    """For each statement, which transaction of the file it runs in; None when it commits on its own.

    A file migguard wraps is one transaction (until an explicit COMMIT ends it early); otherwise only
    explicit BEGIN … COMMIT blocks group statements. BEGIN and COMMIT belong to their block.
    """
    return _memo(context, "transactions", _transaction_ids)


def _transaction_ids(context: LintContext) -> tuple[int | None, ...]:
    ids: list[int | None] = []
    current: int | None = 0 if context.wrapped_by_runner else None
    counter = 0
    for statement in context.statements:
        if is_transaction_start(statement):
            if current is None:
                counter += 1
                current = counter
            ids.append(current)
        elif is_transaction_end(statement):
            ids.append(current)
            current = None
        else:
            ids.append(current)
    return tuple(ids)


# --- indexes created in this file -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexBuild:
    """A CREATE INDEX of the file."""

    statement: Statement
    name: str | None  # schema-qualified like its table; None when PostgreSQL chooses the name
    table: str
    concurrent: bool
    unique: bool


def index_builds(context: LintContext) -> Iterator[IndexBuild]:
    for statement in context.accepted():
        if statement.node_kind != "IndexStmt":
            continue
        tree, command = statement.ast, statement.command
        if tree is not None and isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "INDEX":
            index = tree.this
            if not isinstance(index, exp.Index):
                continue
            table = table_name(index.args.get("table"))
            name = identifier(index.this) if index.this is not None else None
            yield IndexBuild(statement, _qualify(name, table), table, bool(tree.args.get("concurrently")),
                             bool(tree.args.get("unique")))
        elif isinstance(command, CreateIndex):
            table = normalise(command.table)
            yield IndexBuild(statement, _qualify(command.name, table), table, command.concurrent, command.unique)


def _qualify(name: str | None, table: str) -> str | None:
    """An index lives in its table's schema."""
    if not name:
        return None
    return normalise(f"{table.rsplit('.', 1)[0]}.{name}") if "." in table else name


def created_indexes(context: LintContext) -> dict[str, tuple[int, str]]:
    """Index name → (index of the statement that creates it, its table)."""
    return _memo(context, "indexes", _created_indexes)


def _created_indexes(context: LintContext) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for build in index_builds(context):
        if build.name:
            found.setdefault(build.name, (build.statement.index, build.table))
    return found


def index_table(context: LintContext, index: str, before: int) -> str | None:
    """The table of an index created earlier in this file, else None (migguard cannot know it)."""
    created = created_indexes(context).get(normalise(index))
    return created[1] if created and created[0] < before else None


# --- locks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableLock:
    """A lock one statement takes on one table (or on the table of a named index)."""

    statement: Statement
    table: str | None  # None when only an index (DROP INDEX, REINDEX INDEX) or nothing is named
    lock: Lock
    action: str  # what takes it, for messages: "ALTER TABLE", "CREATE INDEX", …
    index: str | None = None  # DROP INDEX / REINDEX INDEX: the index
    alter: bool = False  # an ALTER TABLE whose actions could be merged into another ALTER TABLE of the table
    referenced: bool = False  # taken on the table a new foreign key references

    @property
    def target(self) -> str:
        if self.table:
            return self.table
        if self.index:
            return f"the table of index {self.index}"
        return "every table it covers"


def table_locks(context: LintContext) -> list[TableLock]:
    """Every table lock the statements of the file take, in file order."""
    return [lock for locks_taken in _locks_by_statement(context).values() for lock in locks_taken]


def locks_of(context: LintContext, statement: Statement) -> list[TableLock]:
    """The table locks one statement of the file takes (computed once per file)."""
    return _locks_by_statement(context).get(statement.index, [])


def _locks_by_statement(context: LintContext) -> dict[int, list[TableLock]]:
    return _memo(context, "locks", lambda c: {s.index: list(statement_locks(s)) for s in c.accepted()})


def is_new_target(context: LintContext, lock: TableLock) -> bool:
    """The locked table was created earlier in this migration: nobody else uses it yet."""
    table = lock.table
    if table is None and lock.index:
        table = index_table(context, lock.index, lock.statement.index)
    return table is not None and context.is_new_table(table, lock.statement.index)


# PostgreSQL's node kinds of the statements that lock a table below: asked first, the kind keeps sqlglot away from
# every other statement (a view, a comment, a grant, a query).
LOCK_KINDS = frozenset({
    "AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt", "IndexStmt", "CreateTrigStmt", "CreateEventTrigStmt",
    "CreateStmt", "CreateTableAsStmt", "CreateForeignTableStmt", "DropStmt", "DropdbStmt", "DropRoleStmt",
    "DropOwnedStmt", "DropTableSpaceStmt", "TruncateStmt", "VacuumStmt", "ClusterStmt", "ReindexStmt",
    "RefreshMatViewStmt", "CreatePolicyStmt", "AlterPolicyStmt",
})


def statement_locks(statement: Statement) -> Iterator[TableLock]:
    """The table locks one statement takes."""
    if statement.node_kind not in LOCK_KINDS:
        return
    tree, command = statement.ast, statement.command
    alter = alter_table(statement)
    if alter is not None:
        yield from _typed_alter_locks(statement, alter)
    elif isinstance(command, AlterTable) and command.object_kind == "table":
        yield from _recognised_alter_locks(statement, command)
    elif isinstance(command, Rename) and command.object_kind in _RENAMES and command.relation:
        yield TableLock(statement, normalise(command.relation), locks.ACCESS_EXCLUSIVE, "ALTER TABLE … RENAME")
    elif tree is not None and isinstance(tree, exp.Create):
        yield from _create_locks(statement, tree)
    elif isinstance(command, CreateIndex):
        lock = locks.CREATE_INDEX_CONCURRENTLY if command.concurrent else locks.CREATE_INDEX
        yield TableLock(statement, normalise(command.table), lock, "CREATE INDEX")
    elif tree is not None and isinstance(tree, exp.Drop):
        yield from _drop_locks(statement, (tree.args.get("kind") or "").lower(),
                               [table_name(t) for t in tree.args.get("tables") or []],
                               bool(tree.args.get("concurrently")))
    elif isinstance(command, DropObjects):
        yield from _drop_locks(statement, command.object_kind, [normalise(n) for n in command.names],
                               command.concurrent)
    elif tree is not None and isinstance(tree, exp.TruncateTable):
        for table in tree.expressions:
            yield TableLock(statement, table_name(table), locks.TRUNCATE, "TRUNCATE")
    elif isinstance(command, Maintenance):
        yield from _maintenance_locks(statement, command)
    elif isinstance(command, Policy):
        yield TableLock(statement, normalise(command.table), locks.ACCESS_EXCLUSIVE, f"{command.action.upper()} POLICY")


def _typed_alter_locks(statement: Statement, tree: exp.Alter) -> Iterator[TableLock]:
    table = table_name(tree.this)
    found: list[Lock] = []
    mergeable = True
    referenced: list[str] = []
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.AlterSet) and action.expressions:  # SET (storage_parameter = …)
            found.append(locks.alter_table_lock("set_rel_options"))
        elif isinstance(action, exp.AddConstraint) and all(isinstance(k, exp.ForeignKey)
                                                           for k in _constraint_kinds(action)):
            found.append(locks.alter_table_lock("add_constraint", foreign_key=True))
        else:
            found.append(locks.ACCESS_EXCLUSIVE)
        if isinstance(action, exp.AlterRename | exp.RenameColumn):
            mergeable = False
        referenced += _references(action)
    if found:
        yield TableLock(statement, table, strongest(found), "ALTER TABLE", alter=mergeable)
    for other in dict.fromkeys(referenced):
        yield TableLock(statement, other, locks.SHARE_ROW_EXCLUSIVE, "ALTER TABLE … REFERENCES", referenced=True)


def _recognised_alter_locks(statement: Statement, command: AlterTable) -> Iterator[TableLock]:
    table = normalise(command.table)
    found = [locks.alter_table_lock(a.kind, foreign_key=a.kind == "add_constraint" and a.constraint_type == "foreign",
                                    concurrent=a.concurrent) for a in command.actions]
    if found:
        mergeable = not any(a.kind in _ALONE for a in command.actions)
        yield TableLock(statement, table, strongest(found), "ALTER TABLE", alter=mergeable)
    for other in dict.fromkeys(normalise(a.references) for a in command.actions if a.references):
        yield TableLock(statement, other, locks.SHARE_ROW_EXCLUSIVE, "ALTER TABLE … REFERENCES", referenced=True)


def _create_locks(statement: Statement, tree: exp.Create) -> Iterator[TableLock]:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "INDEX" and isinstance(tree.this, exp.Index):
        lock = locks.CREATE_INDEX_CONCURRENTLY if tree.args.get("concurrently") else locks.CREATE_INDEX
        yield TableLock(statement, table_name(tree.this.args.get("table")), lock, "CREATE INDEX")
    elif kind == "TRIGGER":
        properties = tree.args.get("properties")
        for prop in properties.expressions if properties is not None else []:
            if isinstance(prop, exp.TriggerProperties) and prop.args.get("table") is not None:
                yield TableLock(statement, table_name(prop.args["table"]), locks.CREATE_TRIGGER, "CREATE TRIGGER")
    elif kind == "TABLE" and isinstance(tree.this, exp.Schema):
        created = table_name(tree.this)
        referenced: list[str] = []
        for element in tree.this.expressions:
            referenced += _references(element)
        for other in dict.fromkeys(r for r in referenced if r != created):  # a self-reference locks nobody out
            yield TableLock(statement, other, locks.SHARE_ROW_EXCLUSIVE, "CREATE TABLE … REFERENCES", referenced=True)


def _drop_locks(statement: Statement, kind: str, names: list[str], concurrent: bool) -> Iterator[TableLock]:
    if kind == "index":
        lock = locks.SHARE_UPDATE_EXCLUSIVE if concurrent else locks.DROP_INDEX
        for name in names:
            yield TableLock(statement, None, lock, "DROP INDEX", index=name)
    elif kind == "table":
        for name in names:
            yield TableLock(statement, name, locks.DROP_TABLE, "DROP TABLE")


def _maintenance_locks(statement: Statement, command: Maintenance) -> Iterator[TableLock]:
    targets = [normalise(t) for t in command.targets if t] or [None]
    if command.command == "vacuum" and command.full:
        for target in targets:
            yield TableLock(statement, target, locks.VACUUM_FULL, "VACUUM FULL")
    elif command.command == "cluster":
        for target in targets:
            yield TableLock(statement, target, locks.CLUSTER, "CLUSTER")
    elif command.command == "reindex" and not command.concurrent:
        for target in targets:
            if command.target_kind == "index":
                yield TableLock(statement, None, locks.REINDEX, "REINDEX", index=target)
            elif command.target_kind == "table":
                yield TableLock(statement, target, locks.SHARE, "REINDEX")
            else:
                yield TableLock(statement, None, locks.SHARE, "REINDEX")
    elif command.command == "refresh" and not command.concurrent:
        for target in targets:
            yield TableLock(statement, target, locks.REFRESH_MATERIALIZED_VIEW, "REFRESH MATERIALIZED VIEW")


def _references(node: exp.Expression) -> list[str]:
    """Tables a column definition, table constraint or ADD CONSTRAINT references (foreign keys)."""
    found = []
    candidates: list[exp.Expression] = []
    if isinstance(node, exp.ColumnDef):
        candidates = [c.args.get("kind") for c in node.args.get("constraints") or []]
    elif isinstance(node, exp.AddConstraint):
        candidates = list(_constraint_kinds(node))
    elif isinstance(node, exp.Constraint):
        candidates = list(node.expressions)
    else:
        candidates = [node]
    for candidate in candidates:
        reference = candidate.args.get("reference") if isinstance(candidate, exp.ForeignKey) else candidate
        if isinstance(reference, exp.Reference):
            target = reference.this
            found.append(table_name(target.this if isinstance(target, exp.Schema) else target))
    return found


# --- constraints ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddedConstraint:
    """A constraint an ALTER TABLE adds: ADD [CONSTRAINT] …, or one declared on a column it adds."""

    statement: Statement
    table: str
    name: str | None  # None when PostgreSQL chooses the name
    kind: str  # foreign | check | unique | primary | exclusion
    not_valid: bool = False
    index: str | None = None  # UNIQUE / PRIMARY KEY … USING INDEX
    references: str | None = None  # foreign: the referenced table
    check: exp.Expression | None = None  # check: the expression (None when sqlglot cannot read it)
    column: str | None = None  # declared on this column of an ADD COLUMN
    column_default: bool = False  # that column has a DEFAULT other than NULL

    @property
    def offset(self) -> int:
        """Where the constraint starts in its statement: the column it sits on, its name, or its keyword."""
        if self.column is not None:
            return columns.add_column_offset(self.statement, self.column)
        # PostgreSQL's tree places a constraint at its CONSTRAINT keyword, or an unnamed one at its kind's
        if self.name:
            found = locate.node_offset(self.statement, "Constraint", conname=locate.stored(self.name))
            return found if found is not None else locate.words(self.statement, "constraint {}", self.name) or 0
        contype = _CONTYPES.get(self.kind)
        unnamed = [locate.offset(self.statement, body.get("location")) for body in
                   locate.nodes(self.statement.node, "Constraint") if body.get("contype") == contype
                   and not body.get("conname")]
        found = min((place for place in unnamed if place is not None), default=None)
        return found if found is not None else locate.words(self.statement, _KEYWORDS.get(self.kind, "constraint")) or 0


# PostgreSQL's constraint type of each kind, and the keyword that starts an unnamed one.
_CONTYPES = {"foreign": "CONSTR_FOREIGN", "check": "CONSTR_CHECK", "primary": "CONSTR_PRIMARY",
             "unique": "CONSTR_UNIQUE", "exclusion": "CONSTR_EXCLUSION"}
_KEYWORDS = {"foreign": "foreign key", "check": "check", "primary": "primary key", "unique": "unique",
             "exclusion": "exclude"}


@functools.cache
def _kinds() -> tuple[tuple[type[exp.Expression], str], ...]:
    """sqlglot's constraint classes → the kind of constraint (built on first use: see migguard.sql.lazy)."""
    return (
        (exp.ForeignKey, "foreign"), (exp.Reference, "foreign"), (exp.CheckColumnConstraint, "check"),
        (exp.UniqueColumnConstraint, "unique"), (exp.PrimaryKey, "primary"),
        (exp.PrimaryKeyColumnConstraint, "primary"), (exp.ExcludeColumnConstraint, "exclusion"),
    )


def _kind(node: exp.Expression | None) -> str | None:
    for cls, kind in _kinds():
        if isinstance(node, cls):
            return kind
    return None


def _constraint_kinds(action: exp.AddConstraint) -> Iterator[exp.Expression]:
    """The constraint bodies of an ADD CONSTRAINT (inside a named Constraint or bare)."""
    for item in action.expressions:
        if isinstance(item, exp.Constraint):
            yield from item.expressions
        else:
            yield item


def added_constraints(context: LintContext) -> Iterator[AddedConstraint]:
    """Every constraint an ALTER TABLE of the file adds, in file order."""
    for statement in context.accepted():
        tree = alter_table(statement)
        if tree is not None:
            yield from _typed_constraints(statement, tree)
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            table = normalise(statement.command.table)
            for action in statement.command.actions:
                if action.kind == "add_constraint" and action.constraint_type:
                    yield AddedConstraint(statement, table, action.name, action.constraint_type, action.not_valid,
                                          action.index, normalise(action.references) if action.references else None,
                                          columns.expression(action.expression))
                elif action.kind == "add_column" and action.column is not None and action.column.primary_key:
                    yield AddedConstraint(statement, table, None, "primary", column=action.column.name)


def _typed_constraints(statement: Statement, tree: exp.Alter) -> Iterator[AddedConstraint]:
    table = table_name(tree.this)
    actions = list(tree.args.get("actions") or [])
    for position, action in enumerate(actions):
        if isinstance(action, exp.AddConstraint):
            # sqlglot reads NOT VALID only after the last action (any other position makes it give up).
            not_valid = bool(tree.args.get("not_valid")) and position == len(actions) - 1
            for item in action.expressions:
                name = identifier(item.this) if isinstance(item, exp.Constraint) and item.this is not None else None
                bodies = item.expressions if isinstance(item, exp.Constraint) else [item]
                for body in bodies:
                    kind = _kind(body)
                    if kind:
                        yield _typed_constraint(statement, table, name, kind, body, not_valid)
        elif isinstance(action, exp.ColumnDef):
            column = identifier(action.this)
            constraints = action.args.get("constraints") or []
            default = any(isinstance(c.args.get("kind"), exp.DefaultColumnConstraint)
                          and not isinstance(c.args["kind"].this, exp.Null) for c in constraints)
            for constraint in constraints:
                name = identifier(constraint.this) if constraint.this is not None else None
                body = constraint.args.get("kind")
                kind = _kind(body)
                if kind:
                    yield _typed_constraint(statement, table, name, kind, body, False, column, default)


def _typed_constraint(statement: Statement, table: str, name: str | None, kind: str, body: exp.Expression,
                      not_valid: bool, column: str | None = None, default: bool = False) -> AddedConstraint:
    references = _references(body)
    check = body.this if isinstance(body, exp.CheckColumnConstraint) else None
    return AddedConstraint(statement, table, name, kind, not_valid, references=references[0] if references else None,
                           check=check, column=column, column_default=default)


@dataclass(frozen=True, slots=True)
class Validation:
    """ALTER TABLE … VALIDATE CONSTRAINT."""

    statement: Statement
    table: str
    name: str


def validations(context: LintContext) -> Iterator[Validation]:
    for statement in context.accepted():
        command = statement.command if statement.node_kind == "AlterTableStmt" else None
        if isinstance(command, AlterTable) and command.object_kind == "table":
            for action in command.actions:
                if action.kind == "validate_constraint" and action.name:
                    yield Validation(statement, normalise(command.table), action.name)


@dataclass(frozen=True, slots=True)
class NotNullColumn:
    """ALTER TABLE … ALTER COLUMN … SET NOT NULL."""

    statement: Statement
    table: str
    column: str


def set_not_null(context: LintContext) -> Iterator[NotNullColumn]:
    for statement in context.accepted():
        tree = alter_table(statement)
        if tree is not None:
            table = table_name(tree.this)
            for action in tree.args.get("actions") or []:
                if (isinstance(action, exp.AlterColumn) and action.args.get("allow_null") is False
                        and not action.args.get("drop")):
                    yield NotNullColumn(statement, table, identifier(action.this))
        elif (statement.node_kind == "AlterTableStmt" and isinstance(statement.command, AlterTable)) and statement.command.object_kind == "table":
            for act in statement.command.actions:
                if act.kind == "set_not_null" and act.name:
                    yield NotNullColumn(statement, normalise(statement.command.table), act.name)


"""Structured forms of the statements sqlglot cannot type, read from PostgreSQL's own grammar.

sqlglot returns RLS toggles, policies, enum changes, DO blocks and functions as a generic
`exp.Command`, and rejects about 1% of real statements outright. For those, `parse.py` asks
pglast (libpg_query) for the node and this module turns it into one of the small dataclasses
below, which the rules read. Nothing outside `parse.py` calls `recognise`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pglast import ast

if TYPE_CHECKING:
    from migguard.sql.plpgsql import BodySql


@dataclass(frozen=True, slots=True)
class AlterAction:
    """One action of an ALTER TABLE, named after PostgreSQL's AlterTableType (snake case)."""

    kind: str  # e.g. "enable_row_security", "validate_constraint", "drop_column"
    name: str | None = None  # column or constraint the action names
    concurrent: bool = False  # DETACH PARTITION … CONCURRENTLY
    cascade: bool = False
    missing_ok: bool = False
    constraint_type: str | None = None  # for add_constraint: check, foreign, unique, primary, …
    not_valid: bool = False  # for add_constraint
    type_name: str | None = None  # for alter_column_type / add_column
    column: ColumnInfo | None = None  # for add_column: the whole column definition
    using: str | None = None  # for alter_column_type: the USING expression, deparsed
    index: str | None = None  # for add_constraint: the index of UNIQUE / PRIMARY KEY … USING INDEX
    expression: str | None = None  # for add_constraint CHECK: the expression, deparsed
    references: str | None = None  # for add_constraint FOREIGN KEY: the referenced table


@dataclass(frozen=True, slots=True)
class AlterTable:
    table: str
    actions: tuple[AlterAction, ...]
    object_kind: str = "table"  # table, index, view, materialized view, sequence, foreign table
    missing_ok: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """CREATE / ALTER / DROP POLICY. Expressions are PostgreSQL-deparsed SQL text."""

    action: str  # create | alter | drop
    name: str
    table: str
    command: str = "all"
    permissive: bool = True
    roles: tuple[str, ...] = ()
    using: str | None = None
    with_check: str | None = None
    missing_ok: bool = False
    cascade: bool = False


@dataclass(frozen=True, slots=True)
class EnumValue:
    """ALTER TYPE … ADD VALUE / RENAME VALUE."""

    type_name: str
    value: str
    neighbour: str | None = None
    is_after: bool = False
    if_not_exists: bool = False
    renamed_from: str | None = None


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A DO block or a CREATE FUNCTION / PROCEDURE, with its body text and the SQL the body sends."""

    kind: str  # do | function | procedure
    name: str | None
    language: str
    body: str
    security_definer: bool = False
    sets_search_path: bool = False
    # What the body sends (plpgsql.read_body): None when its language is not read, or it does not parse.
    runs: tuple[BodySql, ...] | None = None
    unreadable: str | None = None  # why a PL/pgSQL body could not be read


@dataclass(frozen=True, slots=True)
class Prepare:
    """PREPARE name AS statement: the statement (deparsed) runs at each EXECUTE name."""

    name: str
    query: str


@dataclass(frozen=True, slots=True)
class ExplainAnalyze:
    """EXPLAIN ANALYZE statement: the statement (deparsed) really runs."""

    query: str


@dataclass(frozen=True, slots=True)
class ExecutePrepared:
    """EXECUTE name (…): runs a prepared statement."""

    name: str


@dataclass(frozen=True, slots=True)
class CreateRule:
    """CREATE [OR REPLACE] RULE: on `event` to `table`, also (or instead) run `actions` (deparsed)."""

    name: str
    table: str
    event: str  # select | insert | update | delete
    instead: bool
    actions: tuple[str, ...]
    action_kinds: tuple[str, ...]  # insert | update | delete | select | notify, one per action


@dataclass(frozen=True, slots=True)
class DropObjects:
    """DROP <kind> a, b … as PostgreSQL parsed it (sqlglot rejects multi-object and function drops)."""

    object_kind: str  # table, index, function, type, policy, view, schema, …
    names: tuple[str, ...]
    cascade: bool = False
    missing_ok: bool = False
    concurrent: bool = False


@dataclass(frozen=True, slots=True)
class Rename:
    """ALTER … RENAME of an object, column, constraint or value."""

    object_kind: str  # table, column, index, view, constraint, type, schema, …
    relation: str | None
    old_name: str | None
    new_name: str


@dataclass(frozen=True, slots=True)
class Maintenance:
    """VACUUM, CLUSTER, REINDEX, REFRESH MATERIALIZED VIEW."""

    command: str  # vacuum | cluster | reindex | refresh
    targets: tuple[str, ...]
    full: bool = False
    concurrent: bool = False
    target_kind: str | None = None  # reindex: index | table | schema | database | system


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type_name: str
    not_null: bool = False
    primary_key: bool = False
    has_default: bool = False
    identity: bool = False  # GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY
    constraints: tuple[str, ...] = ()  # names of the column's named constraints
    default: str | None = None  # the DEFAULT expression, deparsed
    generated: str | None = None  # GENERATED ALWAYS AS (…): "stored" or "virtual"


@dataclass(frozen=True, slots=True)
class CreateTable:
    """A CREATE TABLE that sqlglot could not parse, reduced to what the rules need."""

    table: str
    columns: tuple[ColumnInfo, ...]
    partition_of: str | None = None
    if_not_exists: bool = False
    primary_key: tuple[str, ...] = ()  # columns of a table-level PRIMARY KEY constraint
    constraints: tuple[str, ...] = ()  # names of the table-level named constraints


@dataclass(frozen=True, slots=True)
class CreateIndex:
    """A CREATE INDEX (read from PostgreSQL's JSON tree by `nodes.create_index`, names as written)."""

    name: str | None
    table: str
    concurrent: bool = False
    unique: bool = False
    if_not_exists: bool = False
    schema: str = ""  # the table's schema as written (the index is created there); "" when unqualified


@dataclass(frozen=True, slots=True)
class CreateView:
    """CREATE [OR REPLACE] [MATERIALIZED] VIEW that sqlglot could not type."""

    name: str
    materialized: bool = False
    replace: bool = False
    if_not_exists: bool = False
    options: tuple[tuple[str, str | None], ...] = ()  # WITH (name [= value]): value as text, None when omitted
    relations: tuple[str, ...] = ()  # tables and views the query reads (CTE names excluded), schema.name
    columns: tuple[str, ...] = ()  # column names the query references or outputs, and the view's column aliases


@dataclass(frozen=True, slots=True)
class AlterDomain:
    """ALTER DOMAIN; `subtype` is PostgreSQL's: T (default), N/O (not null), C (add constraint), X (drop), V (validate)."""

    name: str
    subtype: str
    constraint_type: str | None = None
    not_valid: bool = False


@dataclass(frozen=True, slots=True)
class Transaction:
    """BEGIN / START TRANSACTION / COMMIT / ROLLBACK / SAVEPOINT …"""

    kind: str  # begin | start | commit | rollback | savepoint | release | prepare | commit_prepared | …


@dataclass(frozen=True, slots=True)
class Other:
    """Any other statement PostgreSQL accepts: classified by node type, not modelled further."""

    node_type: str
    details: dict[str, Any] = field(default_factory=dict)


Recognised = (
    AlterTable | Policy | EnumValue | CodeBlock | DropObjects | Rename | Maintenance | CreateTable | CreateIndex
    | CreateView | AlterDomain | Transaction | Prepare | ExplainAnalyze | ExecutePrepared | CreateRule | Other
)

# Statements with nothing for migguard's rules to check: classified, never reported as unanalysed.
NOTHING_TO_CHECK = frozenset(
    {
        "AlterDefaultPrivilegesStmt", "AlterOwnerStmt", "AlterRoleSetStmt", "AlterRoleStmt",
        "AlterSeqStmt", "CommentStmt", "CreateExtensionStmt", "CreateRoleStmt", "CreateSchemaStmt",
        "GrantRoleStmt", "GrantStmt", "VariableSetStmt", "VariableShowStmt",
        "CreateEventTrigStmt", "CreatePublicationStmt", "AlterPublicationStmt", "CreateStatsStmt",
        "AlterExtensionStmt", "SelectStmt", "NotifyStmt", "ListenStmt", "CreateSeqStmt", "DefineStmt",
        "CompositeTypeStmt", "CreateEnumStmt", "CreateDomainStmt", "CreateCastStmt", "CreateTrigStmt",
        "ViewStmt", "CreateTableAsStmt", "InsertStmt", "AlterFunctionStmt", "AlterObjectSchemaStmt",
        "CreateOpClassStmt", "CreateFdwStmt", "CreateForeignServerStmt", "CreateUserMappingStmt",
        "ImportForeignSchemaStmt", "AlterEventTrigStmt", "SecLabelStmt", "CreateConversionStmt",
        "LockStmt", "CallStmt", "ExplainStmt", "CheckPointStmt", "DiscardStmt", "AlterDatabaseSetStmt",
        "CreateSubscriptionStmt", "AlterSubscriptionStmt", "CreateTransformStmt",
        "CreateAmStmt", "CreatePLangStmt", "AlterTSConfigurationStmt", "AlterTSDictionaryStmt",
        "AlterCollationStmt", "AlterOperatorStmt", "AlterTypeStmt", "AlterStatsStmt", "CreateOpFamilyStmt",
        "AlterOpFamilyStmt", "CopyStmt", "DeallocateStmt", "LoadStmt",
        "AlterDatabaseStmt", "CreatedbStmt", "CreateTableSpaceStmt",
        "AlterExtensionContentsStmt", "AlterObjectDependsStmt", "FetchStmt", "DeclareCursorStmt",
        "ClosePortalStmt", "UnlistenStmt", "ConstraintsSetStmt", "CreateForeignTableStmt", "AlterFdwStmt",
        "AlterForeignServerStmt", "AlterUserMappingStmt", "DropUserMappingStmt", "DropSubscriptionStmt",
        "AlterTableSpaceOptionsStmt", "AlterTableMoveAllStmt", "AlterDatabaseRefreshCollStmt",
        "CreateRangeStmt", "UpdateStmt", "DeleteStmt", "MergeStmt",
    }
)


def recognise(node: ast.Node, text: str = "") -> Recognised:
    """Turn a pglast statement node into the structured form the rules read; `text` is the statement
    as written (PL/pgSQL function bodies are read from it, with their signature)."""
    if isinstance(node, ast.CreateFunctionStmt):
        return _create_function(node, text)
    handler = _HANDLERS.get(type(node).__name__)
    if handler is not None:
        return handler(node)
    return Other(type(node).__name__)


# --- helpers -------------------------------------------------------------------------------------


def _deparse(node: Any) -> str | None:
    if node is None:
        return None
    if isinstance(node, tuple):
        return "; ".join(part for part in (_deparse(n) for n in node) if part)
    from pglast.stream import RawStream  # its printers cost a cold lint ~5 ms: loaded when something is deparsed

    return RawStream()(node)


def _range_var(rv: ast.RangeVar | None) -> str:
    if rv is None:
        return ""
    return f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname


def _dotted(parts: Any) -> str:
    return ".".join(p.sval for p in parts or () if isinstance(p, ast.String))


def _enum_name(value: Any) -> str:
    return getattr(value, "name", str(value))


def _object_kind(value: Any) -> str:
    return _enum_name(value).removeprefix("OBJECT_").lower().replace("_", " ")


def _type_name(tn: ast.TypeName | None) -> str:
    if tn is None:
        return ""
    names = [p.sval for p in tn.names or () if isinstance(p, ast.String)]
    if len(names) == 2 and names[0] == "pg_catalog":
        names = names[1:]
    text = ".".join(names)
    if tn.typmods:
        mods = ", ".join(_deparse(m) or "" for m in tn.typmods)
        text += f"({mods})"
    if tn.arrayBounds:
        text += "[]" * len(tn.arrayBounds)
    return text


_CONSTRAINT_TYPES = {
    "CONSTR_CHECK": "check", "CONSTR_FOREIGN": "foreign", "CONSTR_UNIQUE": "unique",
    "CONSTR_PRIMARY": "primary", "CONSTR_EXCLUSION": "exclusion", "CONSTR_NOTNULL": "not null",
    "CONSTR_DEFAULT": "default", "CONSTR_IDENTITY": "identity", "CONSTR_GENERATED": "generated",
}


# --- handlers ------------------------------------------------------------------------------------


def _alter_table(node: ast.AlterTableStmt) -> AlterTable:
    actions = []
    for cmd in node.cmds or ():
        kind = _enum_name(cmd.subtype).removeprefix("AT_")
        snake = "".join("_" + c.lower() if c.isupper() else c for c in kind).lstrip("_")
        definition = cmd.def_
        action = AlterAction(kind=snake, name=cmd.name, cascade=_enum_name(cmd.behavior) == "DROP_CASCADE",
                             missing_ok=bool(cmd.missing_ok))
        if isinstance(definition, ast.PartitionCmd):
            action = AlterAction(kind=snake, name=_range_var(definition.name), concurrent=bool(definition.concurrent))
        elif isinstance(definition, ast.Constraint):
            action = AlterAction(kind=snake, name=definition.conname or cmd.name,
                                 constraint_type=_CONSTRAINT_TYPES.get(_enum_name(definition.contype)),
                                 not_valid=bool(definition.skip_validation), index=definition.indexname or None,
                                 expression=_deparse(definition.raw_expr),
                                 references=_range_var(definition.pktable) or None)
        elif isinstance(definition, ast.ColumnDef):
            action = AlterAction(kind=snake, name=definition.colname or cmd.name, type_name=_type_name(definition.typeName),
                                 missing_ok=bool(cmd.missing_ok),
                                 column=_column_info(definition) if snake == "add_column" else None,
                                 using=_deparse(definition.raw_default) if snake == "alter_column_type" else None)
        actions.append(action)
    return AlterTable(_range_var(node.relation), tuple(actions), _object_kind(node.objtype), bool(node.missing_ok))


def _role_name(role: ast.RoleSpec) -> str:
    kind = _enum_name(role.roletype)
    return role.rolename if kind == "ROLESPEC_CSTRING" else kind.removeprefix("ROLESPEC_").lower()


def _create_policy(node: ast.CreatePolicyStmt) -> Policy:
    return Policy("create", node.policy_name, _range_var(node.table), command=node.cmd_name or "all",
                  permissive=bool(node.permissive), roles=tuple(_role_name(r) for r in node.roles or ()),
                  using=_deparse(node.qual), with_check=_deparse(node.with_check))


def _alter_policy(node: ast.AlterPolicyStmt) -> Policy:
    return Policy("alter", node.policy_name, _range_var(node.table),
                  roles=tuple(_role_name(r) for r in node.roles or ()),
                  using=_deparse(node.qual), with_check=_deparse(node.with_check))


def _alter_enum(node: ast.AlterEnumStmt) -> EnumValue:
    if node.oldVal:
        return EnumValue(_dotted(node.typeName), node.newVal, renamed_from=node.oldVal)
    return EnumValue(_dotted(node.typeName), node.newVal, neighbour=node.newValNeighbor,
                     is_after=bool(node.newValIsAfter), if_not_exists=bool(node.skipIfNewValExists))


def _def_elem_text(arg: Any) -> str:
    if isinstance(arg, ast.String):
        return arg.sval
    if isinstance(arg, tuple):
        return "\n".join(_def_elem_text(a) for a in arg)
    return ""


def _do(node: ast.DoStmt) -> CodeBlock:
    body, language = "", "plpgsql"
    for opt in node.args or ():
        if opt.defname == "as":
            body = _def_elem_text(opt.arg)
        elif opt.defname == "language":
            language = _def_elem_text(opt.arg)
    return with_runs(CodeBlock("do", None, language, body), "")


def with_runs(block: CodeBlock, statement: str) -> CodeBlock:
    """The block, with what its body sends (or why that cannot be read)."""
    from migguard.sql.plpgsql import Unreadable, read_body  # loaded when a file has a DO block or a function

    try:
        runs = read_body(block.kind, block.language, block.body, statement)
    except Unreadable as problem:
        return replace(block, unreadable=str(problem))
    return replace(block, runs=runs)


def _create_function(node: ast.CreateFunctionStmt, text: str = "") -> CodeBlock:
    body, language, definer, search_path = "", "sql", False, False
    for opt in node.options or ():
        if opt.defname == "as":
            body = _def_elem_text(opt.arg)
        elif opt.defname == "language":
            language = _def_elem_text(opt.arg)
        elif opt.defname == "security":
            definer = bool(getattr(opt.arg, "boolval", False))
        elif opt.defname == "set" and isinstance(opt.arg, ast.VariableSetStmt):
            search_path = search_path or opt.arg.name == "search_path"
    if node.sql_body is not None and not body:
        body = _deparse(node.sql_body) or ""
    kind = "procedure" if node.is_procedure else "function"
    block = CodeBlock(kind, _dotted(node.funcname), language.lower(), body, definer, search_path)
    if node.sql_body is not None:  # BEGIN ATOMIC: the statements, as PostgreSQL parsed them
        from migguard.sql.plpgsql import BodySql

        return replace(block, runs=tuple(BodySql(sql, False, 1, False, sql) for sql in _atomic(node.sql_body)))
    if block.language == "plpgsql" and not text:
        text = _deparse(node) or ""
    return with_runs(block, text)


def _atomic(sql_body: Any) -> Iterator[str]:
    for part in sql_body if isinstance(sql_body, tuple) else (sql_body,):
        if isinstance(part, tuple):
            yield from _atomic(part)
        elif isinstance(part, ast.Node):
            text = _deparse(part)
            if text:
                yield text


def _prepare(node: ast.PrepareStmt) -> Prepare:
    return Prepare(node.name, _deparse(node.query) or "")


def _explain(node: ast.ExplainStmt) -> ExplainAnalyze | Other:
    if "analyze" in _enabled_options(node.options):
        return ExplainAnalyze(_deparse(node.query) or "")
    return Other("ExplainStmt")


def _execute(node: ast.ExecuteStmt) -> ExecutePrepared:
    return ExecutePrepared(node.name)


_EVENTS = {"CMD_SELECT": "select", "CMD_INSERT": "insert", "CMD_UPDATE": "update", "CMD_DELETE": "delete"}
_ACTION_KINDS = {"InsertStmt": "insert", "UpdateStmt": "update", "DeleteStmt": "delete", "SelectStmt": "select",
                 "NotifyStmt": "notify"}


def _create_rule(node: ast.RuleStmt) -> CreateRule:
    actions = tuple(node.actions or ())
    return CreateRule(node.rulename, _range_var(node.relation), _EVENTS.get(_enum_name(node.event), "other"),
                      bool(node.instead), tuple(_deparse(a) or "" for a in actions),
                      tuple(_ACTION_KINDS.get(type(a).__name__, "other") for a in actions))


def _drop_object_name(obj: Any) -> str:
    if isinstance(obj, ast.ObjectWithArgs):
        return _dotted(obj.objname)
    if isinstance(obj, ast.TypeName):
        return _type_name(obj)
    if isinstance(obj, ast.String):
        return obj.sval
    if isinstance(obj, tuple):
        return _dotted(obj)
    return _deparse(obj) or ""


def _drop(node: ast.DropStmt) -> DropObjects | Policy:
    kind = _object_kind(node.removeType)
    cascade = _enum_name(node.behavior) == "DROP_CASCADE"
    if kind == "policy":  # objects: ((table..., policy_name),)
        parts = [p.sval for p in node.objects[0]]
        return Policy("drop", parts[-1], ".".join(parts[:-1]), missing_ok=bool(node.missing_ok), cascade=cascade)
    names = tuple(_drop_object_name(o) for o in node.objects or ())
    return DropObjects(kind, names, cascade, bool(node.missing_ok), bool(node.concurrent))


def _rename(node: ast.RenameStmt) -> Rename:
    kind = _object_kind(node.renameType)
    relation = _range_var(node.relation) if node.relation else (_drop_object_name(node.object) if node.object else None)
    return Rename(kind, relation, node.subname, node.newname)


def _enabled_options(options: Any) -> set[str]:
    """Names of the options that are on: `(FULL)` and `(FULL true)` are, `(FULL false)` / `(FULL off)` are not."""
    enabled = set()
    for opt in options or ():
        arg = opt.arg
        value = getattr(arg, "boolval", None)
        if value is None and isinstance(arg, ast.String):
            value = arg.sval.lower() not in ("false", "off", "no", "0")
        if value is None and isinstance(arg, ast.Integer):
            value = arg.ival != 0
        if value is None or value:
            enabled.add(opt.defname)
    return enabled


def _vacuum(node: ast.VacuumStmt) -> Maintenance:
    options = _enabled_options(node.options)
    targets = tuple(_range_var(r.relation) for r in node.rels or ())
    return Maintenance("vacuum" if node.is_vacuumcmd else "analyze", targets, full="full" in options)


def _cluster(node: ast.ClusterStmt) -> Maintenance:
    return Maintenance("cluster", (_range_var(node.relation),) if node.relation else ())


def _reindex(node: ast.ReindexStmt) -> Maintenance:
    options = _enabled_options(node.params)
    target = _range_var(node.relation) if node.relation else (node.name or "")
    kind = _enum_name(node.kind).removeprefix("REINDEX_OBJECT_").lower()
    return Maintenance("reindex", (target,), concurrent="concurrently" in options, target_kind=kind)


def _refresh(node: ast.RefreshMatViewStmt) -> Maintenance:
    return Maintenance("refresh", (_range_var(node.relation),), concurrent=bool(node.concurrent))


def _column_info(elt: ast.ColumnDef) -> ColumnInfo:
    kinds = {_enum_name(c.contype) for c in elt.constraints or ()}
    return ColumnInfo(elt.colname, _type_name(elt.typeName),
                      not_null=bool({"CONSTR_NOTNULL", "CONSTR_PRIMARY"} & kinds),
                      primary_key="CONSTR_PRIMARY" in kinds,
                      has_default=bool({"CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED"} & kinds),
                      identity="CONSTR_IDENTITY" in kinds,
                      constraints=tuple(c.conname for c in elt.constraints or () if c.conname),
                      default=_deparse(next((c.raw_expr for c in elt.constraints or ()
                                             if _enum_name(c.contype) == "CONSTR_DEFAULT"), None)),
                      generated=_generated_kind(elt))


def _generated_kind(elt: ast.ColumnDef) -> str | None:
    for c in elt.constraints or ():
        if _enum_name(c.contype) == "CONSTR_GENERATED":
            return "virtual" if getattr(c, "generated_kind", "s") == "v" else "stored"
    return None


def _create_table(node: ast.CreateStmt) -> CreateTable:
    columns = []
    primary_key: tuple[str, ...] = ()
    constraints = []
    for elt in node.tableElts or ():
        if isinstance(elt, ast.Constraint):
            if elt.conname:
                constraints.append(elt.conname)
            if _enum_name(elt.contype) == "CONSTR_PRIMARY":
                primary_key = tuple(k.sval for k in elt.keys or () if isinstance(k, ast.String))
        if not isinstance(elt, ast.ColumnDef):
            continue
        columns.append(_column_info(elt))
    parent = _range_var(node.inhRelations[0]) if node.partbound is not None and node.inhRelations else None
    return CreateTable(_range_var(node.relation), tuple(columns), parent, if_not_exists=bool(node.if_not_exists),
                       primary_key=primary_key, constraints=tuple(constraints))


def _transaction(node: ast.TransactionStmt) -> Transaction:
    return Transaction(_enum_name(node.kind).removeprefix("TRANS_STMT_").lower())


def _create_index(node: ast.IndexStmt) -> CreateIndex:
    return CreateIndex(node.idxname, _range_var(node.relation), bool(node.concurrent), bool(node.unique),
                       bool(node.if_not_exists), node.relation.schemaname or "" if node.relation else "")


def _alter_domain(node: ast.AlterDomainStmt) -> AlterDomain:
    definition = node.def_
    if isinstance(definition, ast.Constraint):
        return AlterDomain(_dotted(node.typeName), node.subtype,
                           _CONSTRAINT_TYPES.get(_enum_name(definition.contype)), bool(definition.skip_validation))
    return AlterDomain(_dotted(node.typeName), node.subtype)


def _create_domain(node: ast.CreateDomainStmt) -> Other:
    """Still `Other` (nothing to model beyond this): details name the domain and its constraint kinds."""
    kinds = tuple(_CONSTRAINT_TYPES.get(_enum_name(c.contype), "other") for c in node.constraints or ())
    return Other("CreateDomainStmt", {"name": _dotted(node.domainname), "constraints": kinds})


def _drop_database(node: ast.DropdbStmt) -> DropObjects:
    return DropObjects("database", (node.dbname,), missing_ok=bool(node.missing_ok))


def _drop_role(node: ast.DropRoleStmt) -> DropObjects:
    return DropObjects("role", tuple(_role_name(r) for r in node.roles or ()), missing_ok=bool(node.missing_ok))


def _drop_owned(node: ast.DropOwnedStmt) -> DropObjects:
    """DROP OWNED BY role: drops every object the roles own (CASCADE drops what depends on them too)."""
    return DropObjects("owned", tuple(_role_name(r) for r in node.roles or ()),
                       cascade=_enum_name(node.behavior) == "DROP_CASCADE")


def _drop_tablespace(node: ast.DropTableSpaceStmt) -> DropObjects:
    return DropObjects("tablespace", (node.tablespacename,), missing_ok=bool(node.missing_ok))


def _relations_and_columns(query: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Relations a query reads (without its CTE names) and the column names it references or outputs."""
    from pglast.visitors import Visitor

    class _Collect(Visitor):
        def __init__(self) -> None:
            self.relations: list[str] = []
            self.ctes: set[str] = set()
            self.columns: list[str] = []

        def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
            self.relations.append(_range_var(node))

        def visit_CommonTableExpr(self, ancestors: Any, node: ast.CommonTableExpr) -> None:
            self.ctes.add(node.ctename)

        def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> None:
            self.columns.extend(p.sval for p in node.fields or () if isinstance(p, ast.String))

        def visit_ResTarget(self, ancestors: Any, node: ast.ResTarget) -> None:
            if node.name:
                self.columns.append(node.name)

    collect = _Collect()
    if query is not None:
        collect(query)
    relations = [r for r in collect.relations if r not in collect.ctes]
    return tuple(dict.fromkeys(relations)), tuple(dict.fromkeys(collect.columns))


def _reloptions(options: Any) -> tuple[tuple[str, str | None], ...]:
    found = []
    for opt in options or ():
        arg = opt.arg
        if arg is None:
            value = None
        elif isinstance(arg, ast.String):
            value = arg.sval
        elif isinstance(arg, ast.Integer):
            value = str(arg.ival)
        else:
            value = _deparse(arg)
        found.append((opt.defname, value))
    return tuple(found)


def _create_view(node: ast.ViewStmt) -> CreateView:
    relations, columns = _relations_and_columns(node.query)
    aliases = tuple(a.sval for a in node.aliases or () if isinstance(a, ast.String))
    return CreateView(_range_var(node.view), replace=bool(node.replace), options=_reloptions(node.options),
                      relations=relations, columns=tuple(dict.fromkeys(columns + aliases)))


def _create_table_as(node: ast.CreateTableAsStmt) -> CreateView | Other:
    """CREATE MATERIALIZED VIEW; CREATE TABLE AS / SELECT INTO stay `Other`."""
    if _object_kind(node.objtype) != "matview":
        return Other("CreateTableAsStmt", {"name": _range_var(node.into.rel) if node.into else ""})
    relations, columns = _relations_and_columns(node.query)
    into = node.into
    aliases = tuple(a.sval for a in into.colNames or () if isinstance(a, ast.String))
    return CreateView(_range_var(into.rel), materialized=True, if_not_exists=bool(node.if_not_exists),
                      options=_reloptions(into.options), relations=relations,
                      columns=tuple(dict.fromkeys(columns + aliases)))


_HANDLERS = {
    "IndexStmt": _create_index,
    "ViewStmt": _create_view,
    "CreateTableAsStmt": _create_table_as,
    "AlterDomainStmt": _alter_domain,
    "CreateDomainStmt": _create_domain,
    "DropdbStmt": _drop_database,
    "DropRoleStmt": _drop_role,
    "DropTableSpaceStmt": _drop_tablespace,
    "DropOwnedStmt": _drop_owned,
    "TransactionStmt": _transaction,
    "AlterTableStmt": _alter_table,
    "CreatePolicyStmt": _create_policy,
    "AlterPolicyStmt": _alter_policy,
    "AlterEnumStmt": _alter_enum,
    "DoStmt": _do,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "ReindexStmt": _reindex,
    "RefreshMatViewStmt": _refresh,
    "CreateStmt": _create_table,
    "PrepareStmt": _prepare,
    "ExecuteStmt": _execute,
    "ExplainStmt": _explain,
    "RuleStmt": _create_rule,
}

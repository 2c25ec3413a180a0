"""Reading PostgreSQL's parse tree as libpg_query's JSON gives it (`Statement.node`).

A node is a one-key dict, `{"UpdateStmt": {…}}`; fields typed as one node kind hold its body directly.
These helpers answer structural questions from the tree the file's one parse already built, so a
statement that cannot matter to a rule is never handed to a second parser.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from migguard.sql import locate
from migguard.sql.shapes import (
    AlterAction, AlterTable, CodeBlock, CreateIndex, DropObjects, EnumValue, Policy, Transaction, with_runs,
)

# PostgreSQL keeps 63 bytes of a name (NAMEDATALEN - 1): a name of that length may have been cut.
MAX_NAME_BYTES = 63


def statements(tree: dict | None) -> Iterator[tuple[str, dict]]:
    """(kind, body) of the statement and of those written inside it where a data-modifying statement can
    stand: WITH queries, INSERT's query, the branches of UNION / INTERSECT / EXCEPT (not expressions)."""
    pending = [tree] if tree else []
    while pending:
        kind, body = next(iter(pending.pop().items()))
        yield kind, body
        for cte in (body.get("withClause") or {}).get("ctes") or ():
            query = cte.get("CommonTableExpr", {}).get("ctequery")
            if query:
                pending.append(query)
        if body.get("selectStmt"):
            pending.append(body["selectStmt"])
        for branch in ("larg", "rarg"):  # set operations hold SelectStmt bodies directly
            if body.get(branch):
                pending.append({"SelectStmt": body[branch]})


def find(tree: dict | None, kind: str) -> Iterator[dict]:
    """The bodies of the `kind` statements of `tree` (see `statements`)."""
    return (body for found, body in statements(tree) if found == kind)


def contains(tree: dict | None, kind: str) -> bool:
    """Is `tree` a `kind` statement, or does it hold one (see `statements`)?"""
    return next(find(tree, kind), None) is not None


def may_name(tree: dict | None, text: str, tables: Iterable[str]) -> bool:
    """Might a statement touch one of `tables` (names, perhaps schema-qualified)? Not when its tree (None:
    unknown) refers to none of them, by the last part of the name, in a table reference (RangeVar); nor,
    before the tree is walked, when its `text` does not hold one of those names at all (a name written with
    Unicode escapes, U&"…", or holding a quote, is left to the tree)."""
    if tree is None:
        return True
    names = [locate.stored(table.rsplit(".", 1)[-1]) for table in tables]
    names += [locate.stored(table) for table in tables if "." in table]  # "a.b" may be one quoted name
    if "&" not in text and not any('"' in name for name in names):
        folded = text.lower()
        if not any(name.lower() in folded for name in names):
            return False
    named = {body.get("relname") for body in locate.nodes(tree, "RangeVar")}
    return any(name in named for name in names)


def as_written(text: str, name: str) -> str:
    """The full name in the statement text, when PostgreSQL's scanner has cut it to 63 bytes (unquoted names
    folded to lower case, as PostgreSQL and sqlglot read them)."""
    if len(name.encode("utf-8")) < MAX_NAME_BYTES:
        return name
    longest = name
    for token in locate.text_tokens(text):  # the scanner's tokens: a name in a comment or a string is none
        if token.name and token.value.startswith(name):
            longest = max(longest, token.value, key=len)
    return longest


def create_index(body: dict, text: str) -> CreateIndex:
    """CREATE INDEX from its IndexStmt body; names as written (see `as_written`)."""
    relation = body.get("relation") or {}
    schema = as_written(text, relation.get("schemaname") or "") if relation.get("schemaname") else ""
    table = as_written(text, relation.get("relname") or "")
    name = as_written(text, body["idxname"]) if body.get("idxname") else None
    return CreateIndex(name, f"{schema}.{table}" if schema else table, bool(body.get("concurrent")),
                       bool(body.get("unique")), bool(body.get("if_not_exists")), schema)


class Unread(Exception):
    """A shape these readers do not cover: the statement is read as before (sqlglot, else pglast's objects)."""


def _strings(items: list | None) -> list[str]:
    return [item["String"]["sval"] for item in items or () if "String" in item]


def _dotted(text: str, parts: list[str]) -> str:
    return ".".join(as_written(text, part) for part in parts)


def _drop_name(text: str, obj: dict) -> str:
    kind, body = next(iter(obj.items()))
    if kind == "List":
        return _dotted(text, _strings(body.get("items")))
    if kind == "String":
        return as_written(text, body["sval"])
    if kind == "ObjectWithArgs":
        return _dotted(text, _strings(body.get("objname")))
    if kind == "TypeName" and not body.get("typmods"):
        names = _strings(body.get("names"))
        if len(names) == 2 and names[0] == "pg_catalog":
            names = names[1:]
        return _dotted(text, names) + "[]" * len(body.get("arrayBounds") or ())
    raise Unread(kind)


def drop(body: dict, text: str) -> DropObjects | Policy:
    """DROP … from its DropStmt body, as `shapes` reads it from pglast's objects; names as written."""
    kind = body.get("removeType", "").removeprefix("OBJECT_").lower().replace("_", " ")
    kind = "materialized view" if kind == "matview" else kind  # as sqlglot's tree and the messages name it
    cascade = body.get("behavior") == "DROP_CASCADE"
    objects = body.get("objects") or []
    if kind == "policy":  # (table…, policy name), as PostgreSQL keeps it (sqlglot never read DROP POLICY)
        parts = _strings(objects[0]["List"]["items"])
        return Policy("drop", parts[-1], ".".join(parts[:-1]), missing_ok=bool(body.get("missing_ok")),
                      cascade=cascade)
    names = tuple(_drop_name(text, obj) for obj in objects)
    return DropObjects(kind, names, cascade, bool(body.get("missing_ok")), bool(body.get("concurrent")))


# ALTER TABLE actions that name a column or constraint and carry no definition: no expression or type for
# sqlglot to read. An ALTER TABLE of only these is read from the JSON tree.
_PLAIN_ACTIONS = frozenset({
    "AT_DropColumn", "AT_DropConstraint", "AT_SetNotNull", "AT_DropNotNull", "AT_ValidateConstraint",
    "AT_EnableRowSecurity", "AT_DisableRowSecurity", "AT_ForceRowSecurity", "AT_NoForceRowSecurity",
    "AT_ColumnDefault",  # DROP DEFAULT only: SET DEFAULT carries its expression in "def" (volatility matters)
})


def alter_table(body: dict, text: str) -> AlterTable:
    """ALTER TABLE of plain actions only (see `_PLAIN_ACTIONS`), as `shapes` reads it; names as written."""
    actions = []
    for item in body.get("cmds") or ():
        cmd = item["AlterTableCmd"]
        subtype = cmd["subtype"]
        kind = subtype.removeprefix("AT_")
        snake = "".join("_" + c.lower() if c.isupper() else c for c in kind).lstrip("_")
        constraint = cmd.get("def", {}).get("Constraint") if subtype == "AT_AddConstraint" else None
        if constraint is not None and constraint.get("contype") == "CONSTR_FOREIGN":  # columns and a table only
            name = constraint.get("conname") or cmd.get("name")
            references = constraint.get("pktable") or {}
            target = [references.get("schemaname"), references.get("relname")]
            actions.append(AlterAction(kind=snake, name=as_written(text, name) if name else None,
                                       constraint_type="foreign", not_valid=bool(constraint.get("skip_validation")),
                                       index=constraint.get("indexname") or None,
                                       references=_dotted(text, [p for p in target if p]) or None))
            continue
        if subtype not in _PLAIN_ACTIONS or "def" in cmd:
            raise Unread(subtype)
        actions.append(AlterAction(kind=snake, name=as_written(text, cmd["name"]) if cmd.get("name") else None,
                                   cascade=cmd.get("behavior") == "DROP_CASCADE", missing_ok=bool(cmd.get("missing_ok"))))
    relation = body.get("relation") or {}
    parts = [relation.get("schemaname"), relation.get("relname")]
    kind = body.get("objtype", "").removeprefix("OBJECT_").lower().replace("_", " ")
    return AlterTable(_dotted(text, [p for p in parts if p]), tuple(actions), kind, bool(body.get("missing_ok")))


def transaction(body: dict, text: str) -> Transaction:
    """BEGIN, COMMIT, SAVEPOINT … from its TransactionStmt body, as `shapes` reads it from pglast's objects
    (`transactions.py` reads these kinds: a file wrapped in BEGIN … COMMIT needs no sqlglot for them)."""
    return Transaction(body["kind"].removeprefix("TRANS_STMT_").lower())


def _option_text(arg: dict | None) -> str:
    """An option's text (`AS '…'`, `LANGUAGE x`), as `shapes._def_elem_text` reads pglast's objects: a string,
    or a list of them one a line (a C function's file and symbol)."""
    if not arg:
        return ""
    if "String" in arg:
        return arg["String"].get("sval", "")
    if "List" in arg:
        return "\n".join(_option_text(item) for item in arg["List"].get("items") or ())
    return ""


# What `shapes` gives up on with these errors (`parse._recognise` reads the statement as Other): the same
# statement is then read from pglast's objects, to the same end.
_READ_ERRORS = (AttributeError, TypeError, ValueError, IndexError)


def create_function(body: dict, text: str) -> CodeBlock:
    """CREATE FUNCTION / PROCEDURE from its CreateFunctionStmt body, as `shapes` reads it from pglast's objects,
    with what its body runs; a BEGIN ATOMIC body (statements PostgreSQL parsed, deparsed there) is not read here."""
    if body.get("sql_body") is not None:
        raise Unread("sql_body")
    source, language, definer, search_path = "", "sql", False, False
    for option in body.get("options") or ():
        element = option.get("DefElem") or {}
        name, arg = element.get("defname"), element.get("arg")
        if name == "as":
            source = _option_text(arg)
        elif name == "language":
            language = _option_text(arg)
        elif name == "security":
            definer = bool((arg or {}).get("Boolean", {}).get("boolval", False))
        elif name == "set" and arg and "VariableSetStmt" in arg:
            search_path = search_path or arg["VariableSetStmt"].get("name") == "search_path"
    kind = "procedure" if body.get("is_procedure") else "function"
    block = CodeBlock(kind, ".".join(_strings(body.get("funcname"))), language.lower(), source, definer, search_path)
    try:
        return with_runs(block, text)
    except _READ_ERRORS as error:
        raise Unread(type(error).__name__) from None


def do_block(body: dict, text: str) -> CodeBlock:
    """DO from its DoStmt body, as `shapes` reads it from pglast's objects, with what its body runs."""
    source, language = "", "plpgsql"
    for option in body.get("args") or ():
        element = option.get("DefElem") or {}
        if element.get("defname") == "as":
            source = _option_text(element.get("arg"))
        elif element.get("defname") == "language":
            language = _option_text(element.get("arg"))
    try:
        return with_runs(CodeBlock("do", None, language, source), "")
    except _READ_ERRORS as error:
        raise Unread(type(error).__name__) from None


def alter_enum(body: dict, text: str) -> EnumValue:
    """ALTER TYPE … ADD VALUE / RENAME VALUE from its AlterEnumStmt body, as `shapes` reads it from pglast's
    objects (sqlglot reads these as a bare Command: it is never asked)."""
    name = ".".join(_strings(body.get("typeName")))
    if body.get("oldVal"):
        return EnumValue(name, body.get("newVal", ""), renamed_from=body["oldVal"])
    return EnumValue(name, body.get("newVal", ""), neighbour=body.get("newValNeighbor"),
                     is_after=bool(body.get("newValIsAfter")), if_not_exists=bool(body.get("skipIfNewValExists")))


# Node kinds whose structured form is read from the JSON tree (`Statement.command`), never from sqlglot; a
# reader raises Unread for a shape it does not cover.
SHAPES = {"IndexStmt": create_index, "DropStmt": drop, "AlterTableStmt": alter_table, "TransactionStmt": transaction,
          "CreateFunctionStmt": create_function, "DoStmt": do_block, "AlterEnumStmt": alter_enum}

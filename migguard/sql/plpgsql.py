"""What a DO block or a function body runs: the SQL written in it, and the strings it EXECUTEs.

A PL/pgSQL body is read with PostgreSQL's own PL/pgSQL parser (pglast `parse_plpgsql`), so
comments, strings and nesting are never guessed. Every statement that sends SQL is collected:
SQL written in the body, and the string of `EXECUTE`, `FOR … IN EXECUTE`, `RETURN QUERY EXECUTE`
and `OPEN … FOR EXECUTE`. A string built only from constants — literals joined with `||`,
`format()`, `quote_ident()`, `quote_literal()`, `concat()`, casts to text, `CONSTANT` variables —
is folded to the SQL it runs (`'TRUNC' || 'ATE victim'` is `TRUNCATE victim`). Anything else is
known only at run time: it is returned without SQL (`sql=None`), and the rules treat it as
unreadable. A `LANGUAGE sql` body is its statements. Other languages are not read (None).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast import ast, parse_plpgsql, parse_sql
from pglast import parser as pg
from pglast.keywords import (
    COL_NAME_KEYWORDS,
    RESERVED_KEYWORDS,
    TYPE_FUNC_NAME_KEYWORDS,
)


@dataclass(frozen=True, slots=True)
class BodySql:
    """One piece of SQL a body sends to the server."""

    sql: str | None  # the SQL text; None when it is built at run time and cannot be read
    dynamic: bool  # the string of an EXECUTE (folded when constant), not SQL written in the body
    line: int  # 1-based line in the body where the statement is written
    conditional: bool  # inside IF / CASE / a loop / an exception handler: it may not run at all
    written: str  # how it is written: the EXECUTE expression, or the SQL itself (for messages)
    why: str = ""  # for sql=None: what makes it unreadable


class Unreadable(Exception):
    """The body cannot be read (it does not parse as PL/pgSQL): its message says why."""


_SQL_LANGUAGES = ("sql", "plpgsql")
# Statements that send SQL written in the body: node type → the key of its expression.
_STATIC = {"PLpgSQL_stmt_execsql": "sqlstmt", "PLpgSQL_stmt_fors": "query", "PLpgSQL_stmt_return_query": "query",
           "PLpgSQL_stmt_open": "query", "PLpgSQL_stmt_perform": "expr", "PLpgSQL_stmt_call": "expr"}
# Statements that send a string computed at run time.
_DYNAMIC = {"PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query",
            "PLpgSQL_stmt_return_query": "dynquery", "PLpgSQL_stmt_open": "dynquery"}
# Statements whose nested statements may not run (or run any number of times).
_BRANCHES = {"PLpgSQL_stmt_if", "PLpgSQL_stmt_case", "PLpgSQL_stmt_loop", "PLpgSQL_stmt_while",
             "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors", "PLpgSQL_stmt_forc", "PLpgSQL_stmt_foreach_a",
             "PLpgSQL_stmt_dynfors", "PLpgSQL_exception_block"}
_MAX_FOLDED = 100_000  # characters: a folded string longer than this is not read


def read_body(kind: str, language: str, body: str, statement: str) -> tuple[BodySql, ...] | None:
    """The SQL a DO block (`kind` "do") or function body sends, in order; None for a language migguard
    does not read. `statement` is the whole CREATE FUNCTION text (PL/pgSQL needs its signature).

    Raises Unreadable when a PL/pgSQL body does not parse.
    """
    language = language.lower()
    if language not in _SQL_LANGUAGES:
        return None
    if language == "sql":
        return tuple(_sql_statements(body))
    source = _wrap(body) if kind == "do" else statement
    try:
        tree = parse_plpgsql(source)
    except (pg.ParseError, ValueError, RecursionError) as error:
        raise Unreadable(str(error.args[0] if error.args else error)) from None
    function = tree[0]["PLpgSQL_function"] if tree else {}
    constants = _constants(function.get("datums") or [])
    return tuple(_walk(function.get("action"), False, constants))


def _wrap(body: str) -> str:
    """A DO body as a function PL/pgSQL can parse, with a dollar quote the body does not contain."""
    tag = "do"
    while f"${tag}$" in body:
        tag += "_"
    return f"CREATE FUNCTION pg_temp.do_block() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}$"


def _sql_statements(body: str) -> Iterator[BodySql]:
    try:
        slices = pg.split(body, with_parser=False, only_slices=True)
    except pg.ParseError:
        return
    for piece in slices:
        text = body[piece.start:piece.stop]
        yield BodySql(text, False, body.count("\n", 0, piece.start) + 1, False, text)


def _walk(node: Any, conditional: bool, constants: dict[str, str]) -> Iterator[BodySql]:
    """Depth first, in source order: the SQL of every statement under `node`."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, conditional, constants)
        return
    if not isinstance(node, dict):
        return
    for kind, fields in node.items():
        if not isinstance(fields, dict):
            continue
        line = int(fields.get("lineno") or 0)
        static = _query(fields.get(_STATIC.get(kind, "")))
        if static is not None:
            yield BodySql(static, False, line, conditional, static)
        written = _query(fields.get(_DYNAMIC.get(kind, "")))
        if written is not None:
            yield _dynamic(written, line, conditional, constants)
        inner = conditional or kind in _BRANCHES
        for key, value in fields.items():
            if isinstance(value, dict | list) and key not in ("datums", "target", "var", "row", "rec"):
                yield from _walk(value, inner, constants)


def _query(expr: Any) -> str | None:
    if isinstance(expr, dict) and "PLpgSQL_expr" in expr:
        return expr["PLpgSQL_expr"].get("query")
    return None


def _dynamic(written: str, line: int, conditional: bool, constants: dict[str, str]) -> BodySql:
    try:
        value = _fold(_expression(written), constants)
    except _NotConstant as why:
        return BodySql(None, True, line, conditional, written, str(why))
    except RecursionError:
        return BodySql(None, True, line, conditional, written, "it is nested too deeply to read")
    if len(value) > _MAX_FOLDED:
        return BodySql(None, True, line, conditional, written, "the string is too long to read")
    try:
        parse_sql(value)
    except (pg.ParseError, RecursionError):
        return BodySql(None, True, line, conditional, written, "the folded string does not parse as SQL")
    return BodySql(value, True, line, conditional, written)


def _expression(text: str) -> Any:
    try:
        statement = parse_sql(f"SELECT {text}")[0].stmt
    except (pg.ParseError, RecursionError, IndexError):
        raise _NotConstant("it does not parse as an expression") from None
    targets = getattr(statement, "targetList", None) or ()
    if len(targets) != 1 or getattr(statement, "fromClause", None):
        raise _NotConstant("it is not one expression")
    return targets[0].val


def _constants(datums: list[Any]) -> dict[str, str]:
    """`name CONSTANT text := <constant>` declarations, folded."""
    found: dict[str, str] = {}
    for datum in datums:
        var = datum.get("PLpgSQL_var") if isinstance(datum, dict) else None
        if not var or not var.get("isconst"):
            continue
        default = _query(var.get("default_val"))
        if default is None:
            continue
        try:
            found[var["refname"]] = _fold(_expression(default), found)
        except (_NotConstant, RecursionError):
            continue
    return found


# --- constant folding --------------------------------------------------------------------------------


class _NotConstant(Exception):
    """The expression depends on something known only at run time (its message says what)."""


_TEXT_TYPES = {"text", "varchar", "bpchar", "name", "char"}
_FUNCTIONS = {"format", "quote_ident", "quote_literal", "quote_nullable", "concat", "concat_ws", "lower", "upper"}
_KEYWORDS = set(RESERVED_KEYWORDS) | set(TYPE_FUNC_NAME_KEYWORDS) | set(COL_NAME_KEYWORDS)


def _fold(node: Any, constants: dict[str, str]) -> str:
    """The text value of a constant expression; _NotConstant for anything that needs run time."""
    if isinstance(node, ast.A_Const):
        if node.isnull:
            raise _NotConstant("it is NULL")
        value = node.val
        if isinstance(value, ast.String):
            return value.sval
        if isinstance(value, ast.Integer):
            return str(value.ival)
        if isinstance(value, ast.Float):
            return value.fval
        if isinstance(value, ast.Boolean):
            return "true" if value.boolval else "false"
        raise _NotConstant("an unusual constant")
    if isinstance(node, ast.A_Expr) and _name(node.name) == "||" and node.lexpr is not None:
        return _fold(node.lexpr, constants) + _fold(node.rexpr, constants)
    if isinstance(node, ast.TypeCast) and _name(node.typeName.names) in _TEXT_TYPES:
        return _fold(node.arg, constants)
    if isinstance(node, ast.ColumnRef) and len(node.fields or ()) == 1 and isinstance(node.fields[0], ast.String):
        name = node.fields[0].sval
        if name in constants:
            return constants[name]
        raise _NotConstant(f"it uses {name}, a value known only at run time")
    if isinstance(node, ast.FuncCall) and _name(node.funcname) in _FUNCTIONS and not node.agg_star:
        args = [_fold(arg, constants) for arg in node.args or ()]
        return _call(_name(node.funcname), args)
    from pglast.stream import RawStream  # loaded when something is deparsed (see shapes._deparse)

    shown = RawStream()(node) if isinstance(node, ast.Node) else type(node).__name__
    raise _NotConstant(f"it uses {shown[:60]}, a value known only at run time")


def _name(parts: Any) -> str:
    names = [p.sval for p in parts or () if isinstance(p, ast.String)]
    return names[-1].lower() if names else ""


def _call(function: str, args: list[str]) -> str:
    if function == "format" and args:
        return _format(args[0], args[1:])
    if function == "quote_ident" and len(args) == 1:
        return quote_ident(args[0])
    if function in ("quote_literal", "quote_nullable") and len(args) == 1:
        return _quote_literal(args[0])
    if function == "concat":
        return "".join(args)
    if function == "concat_ws" and args:
        return args[0].join(args[1:])
    if function in ("lower", "upper") and len(args) == 1:
        return args[0].lower() if function == "lower" else args[0].upper()
    raise _NotConstant(f"{function}() with these arguments")


def quote_ident(name: str) -> str:
    """PostgreSQL's quote_ident: quoted unless a plain lower-case identifier that is not a keyword."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    quoted = "'" + value.replace("'", "''").replace("\\", "\\\\") + "'"
    return ("E" + quoted) if "\\" in value else quoted


_SPEC = re.compile(r"%(?:(?P<position>\d+)\$)?(?P<flags>-?)(?P<width>\d*)(?P<type>[sIL%])")


def _format(template: str, args: list[str]) -> str:
    """PostgreSQL's format(): %s, %I, %L, %% with positions and widths (no `*` widths)."""
    out, position, next_arg = [], 0, 0
    for match in _SPEC.finditer(template):
        _plain(template[position:match.start()], out)
        position = match.end()
        if match["type"] == "%":
            out.append("%")
            continue
        index = int(match["position"]) - 1 if match["position"] else next_arg
        next_arg = index + 1
        if not 0 <= index < len(args):
            raise _NotConstant("format() with too few arguments")
        value = args[index]
        value = {"I": quote_ident, "L": _quote_literal}.get(match["type"], str)(value)
        width = int(match["width"] or 0)
        out.append(value.ljust(width) if match["flags"] else value.rjust(width))
    _plain(template[position:], out)
    return "".join(out)


def _plain(text: str, out: list[str]) -> None:
    """Template text between specifiers; a `%` left there is a specifier migguard does not read."""
    if "%" in text:
        raise _NotConstant("format() with a specifier migguard does not read")
    out.append(text)

"""`migguard scan-app`: the tenant-isolation lint of application code (SPEC section 8, POLICY.md).

Static and offline: no database, no imports of the scanned code. It reports queries on
tenant tables that do not constrain the tenant column, in three rules (all severity error):

- `tenant-filter-missing`: SQL in `.sql` files and in string literals of Python, TypeScript /
  JavaScript and Go.
- `orm-tenant-filter-missing`: Drizzle-style `eq(table.col, …)` or `table.findFirst/findMany(…)`
  with no tenantId (TypeScript / JavaScript only).
- `orm-unscoped-delete`: `.delete(table)` with no tenantId outside admin routes.

Their docs, and those of `unused-allowlist-entry` and `unscanned-file`, are in
`migguard.scan.findings`. `[tool.migguard.rules]` applies to every finding ("off" drops it, a
severity replaces the default) before the gate is decided.

Monitored tables (`migguard.scan.tables`), from the first source that names any: those with the
tenant column (`tenant_column`, default tenant_id) in a schema snapshot JSON (`--schema`) and/or
named by `--tables`; `[tool.migguard.scan] tables`; the CREATE TABLE / ALTER TABLE … ADD COLUMN
statements of the configured migrations directory, read statically; production's catalog when
PG_PROD_URL is set (read-only). The report says which (summary `tables_source`). Names are
compared in snake_case, so `hr_employees`, `hrEmployees` and `HrEmployees` are the same table and
`tenantId` is the tenant column.

Heuristics, decided here and tested in tests/scan/test_scan_app.py:

- A literal is SQL when it starts (after whitespace) with SELECT, UPDATE, DELETE, INSERT or WITH.
  Python literals come from `ast` (implicit and `+` concatenation folded, f-string fields replaced);
  JS/TS and Go literals from a small lexer (comments, regex literals, nested template literals;
  literals joined by `+` are merged). A `${…}` field is replaced by `$1`, except a monitored table
  (`${hrEmployees}` → hr_employees) or one of its columns (`${hrEmployees.tenantId}` →
  hr_employees.tenant_id), as Drizzle's `sql` templates interpolate them. Placeholders `%s`,
  `%(name)s`, `?`, `:name` and `{name}` become `$1`. Docstrings and other bare expression strings
  are not queries and are skipped.
- A literal PostgreSQL's grammar (or sqlglot) rejects is skipped with no finding: UI text such
  as "Select a plan" must not fail the gate. Such literals are counted in the summary
  (`sql_unparsed`).
- SQL: every SELECT, UPDATE and DELETE (the statement, each subquery, each CTE body) must constrain
  each monitored table it reads or writes: a conjunct of its WHERE (or of an inner join's ON; a LEFT
  JOIN's ON constrains only the joined table) compares the table's tenant column with `=`, `IN`,
  `= ANY(…)` or `IS NOT DISTINCT FROM` to a value (parameter, literal, function, subquery), or to
  the tenant column of a table constrained itself (joins, `USING (tenant_id)`, correlated outer
  tables). `OR` constrains only what every branch constrains. An unqualified tenant column counts
  for every monitored table of its query. A join to a non-tenant table constrained on one of its
  own columns (`JOIN tenants t ON t.id = b.tenant_id WHERE t.slug = $1`) scopes the tables tied to
  it. A CTE or derived table counts as constrained when every monitored table in it is.
  INSERT with a column list that lacks the tenant column is flagged; without a column list every
  column is given, so it is not.
- ORM: the text window is the enclosing statement: backwards from the call over balanced brackets
  to a `;`, a block's `{` (an object literal's `{` is crossed) or a line break that cannot continue
  the statement (no trailing operator, next line not starting with `.`), and forwards to the
  statement's end the same way. "tenantId" means the word tenantId or tenant_id anywhere in that
  window, in code or strings, not comments. `findFirst`/`findMany` look only at their argument
  list. `.delete(table)` counts only when the monitored table is its first argument (an Express
  `router.delete("/path", …)` is not); files whose path contains `/admin/` or `super-admin` may
  delete unscoped. One finding per statement and table: a delete wins over findFirst/findMany, and
  those over `eq`, so `db.delete(t).where(eq(t.id, id))` is one finding (none in admin routes).
- Walking directories skips hidden directories, node_modules, vendor, build output, virtualenvs,
  `*.d.ts`, `*.min.js`, and the configured migrations and seeds directories (migrations are the
  business of `migguard lint`). A file without a quote followed by a statement keyword (nor, in
  JS/TS, an eq/findFirst/findMany/delete call) is not analysed further. A file that is not UTF-8 or
  over 2 MB, or Python holding such a quote that does not parse, is an `info` finding
  (`unscanned-file`), never a crash.
- Allowlist (`.migguard-allow`, or `--allowlist`): `path:line` silences findings whose span covers
  that line, `path:` a whole file; `#` starts a comment. Paths are POSIX and resolved against the
  current directory, the allowlist's own directory and each scanned directory. Without
  `--allowlist`, the nearest `.migguard-allow` at or above the current directory and at or above
  each scanned path (not past a directory holding `.git`) are all read. An entry for a scanned
  file that silences nothing, or for a file that does not exist, is a warning
  (`unused-allowlist-entry`), which does not fail the gate.
"""

from __future__ import annotations

import ast
import bisect
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from migguard.core.errors import InputError
from migguard.core.findings import Finding, Report, Severity
from migguard.lint.engine import ConfiguredFindings, gate_passes
from migguard.scan.tables import (  # noqa: F401  (the scanner's API)
    MonitoredTables,
    monitored_tables,
    tables_from_migrations,
    tables_from_schema,
)
from migguard.sql import tenant_scope

SQL_RULE = "tenant-filter-missing"
ORM_RULE = "orm-tenant-filter-missing"
DELETE_RULE = "orm-unscoped-delete"
UNUSED_RULE = "unused-allowlist-entry"
UNSCANNED_RULE = "unscanned-file"
ALLOWLIST_NAME = ".migguard-allow"

JS_SUFFIXES = frozenset({".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"})
LANGUAGES = {".sql": "sql", ".py": "python", ".go": "go", **{s: "js" for s in JS_SUFFIXES}}
_SKIP_DIRS = frozenset({"node_modules", "vendor", "dist", "build", "out", "coverage", "target", "venv", "env",
                        "__pycache__", "site-packages"})
_MAX_BYTES = 2_000_000


# --- names -----------------------------------------------------------------------------------------


def snake(name: str) -> str:
    """hrEmployees, HrEmployees, hr_employees, HR_EMPLOYEES → hr_employees; TenantID → tenant_id."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def camel(name: str) -> str:
    """hr_employees → hrEmployees."""
    head, *rest = snake(name).split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def name_forms(name: str) -> tuple[str, str, str]:
    """The spellings a table or column is matched in: snake_case, camelCase, PascalCase."""
    lower_camel = camel(name)
    return snake(name), lower_camel, lower_camel[:1].upper() + lower_camel[1:]


@dataclass(frozen=True)
class Tenancy:
    """What is monitored: tables (snake_case) and the tenant column."""

    tables: frozenset[str]
    column: str = "tenant_id"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", frozenset(snake(t.rpartition(".")[2]) for t in self.tables))
        object.__setattr__(self, "column", snake(self.column))

    def monitored(self, name: str | None) -> bool:
        return bool(name) and snake(name.rpartition(".")[2]) in self.tables

    def is_tenant_column(self, name: str | None) -> bool:
        return bool(name) and snake(name) == self.column

    @property
    def token(self) -> re.Pattern[str]:
        """The tenant column in any spelling, as a word."""
        return re.compile(r"(?<![\w$])(?:" + "|".join(map(re.escape, set(name_forms(self.column)))) + r")(?![\w$])")


# --- positions and literals -----------------------------------------------------------------------


class _Lines:
    """Character offset ↔ 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1


@dataclass(frozen=True)
class _Field:
    """A `${…}` / `{…}` field inside a literal: its source text."""

    expression: str


@dataclass
class StringLiteral:
    """A string literal of the scanned source: its span (offsets) and its pieces."""

    start: int
    end: int
    pieces: list[str | _Field] = field(default_factory=list)

    def value(self, tenancy: Tenancy) -> str:
        return "".join(p if isinstance(p, str) else _field_sql(p.expression, tenancy) for p in self.pieces)


_DOTTED = re.compile(r"^\s*(?:[A-Za-z_$][\w$]*\s*\.\s*)*?([A-Za-z_$][\w$]*)(?:\s*\.\s*([A-Za-z_$][\w$]*))?\s*$")


def _field_sql(expression: str, tenancy: Tenancy) -> str:
    """A template field as SQL: a monitored table (or its column) by name, anything else `$1`."""
    match = _DOTTED.match(expression)
    if match:
        first, second = match.groups()
        if second and tenancy.monitored(first):
            return f"{snake(first)}.{snake(second)}"
        if not second and tenancy.monitored(first):
            return snake(first)
    return " $1 "


@dataclass
class _Lexed:
    code: str  # the source with comments and string contents blanked (newlines kept)
    visible: str  # the source with only comments blanked
    literals: list[StringLiteral]


def _blank(chars: list[str], start: int, end: int) -> None:
    for index in range(start, min(end, len(chars))):
        if chars[index] != "\n":
            chars[index] = " "


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\n": ""}


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw, flags=re.DOTALL)


_REGEX_AFTER_WORDS = frozenset({"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void",
                                "throw", "yield", "await", "instanceof"})


def _lex_c_like(text: str, language: str) -> _Lexed:
    """Comments, strings and (JS) template and regex literals of JS/TS or Go source."""
    code, visible = list(text), list(text)
    literals: list[StringLiteral] = []
    open_templates: list[tuple[StringLiteral, int, int]] = []  # (literal, field start, brace depth)
    n = len(text)

    def template_part(literal: StringLiteral, start: int) -> int:
        """Scan template text from `start` to the closing backtick or a `${`; return where code resumes."""
        k = start
        while k < n:
            ch = text[k]
            if ch == "\\":
                k += 2
                continue
            if ch == "`" or (ch == "$" and text[k + 1:k + 2] == "{" and language == "js"):
                literal.pieces.append(_unescape(text[start:k]))
                _blank(code, start, k)
                if ch == "`":
                    literal.end = k + 1
                    literals.append(literal)
                    return k + 1
                open_templates.append((literal, k + 2, 0))
                return k + 2
            k += 1
        literal.pieces.append(text[start:n])
        _blank(code, start, n)
        literal.end = n
        literals.append(literal)
        return n

    i = 0
    while i < n:
        ch = text[i]
        pair = text[i:i + 2]
        if pair == "//":
            j = text.find("\n", i)
            j = n if j == -1 else j
            _blank(code, i, j)
            _blank(visible, i, j)
            i = j
        elif pair == "/*":
            j = text.find("*/", i + 2)
            j = n if j == -1 else j + 2
            _blank(code, i, j)
            _blank(visible, i, j)
            i = j
        elif ch in "'\"":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j, n)
            end = j + 1 if j < n and text[j] == ch else j
            if ch == '"' or language == "js":  # a Go '…' is a rune, not a string
                literals.append(StringLiteral(i, end, [_unescape(text[i + 1:j])]))
            _blank(code, i + 1, j)
            i = end
        elif ch == "`":
            if language == "go":  # raw string: no escapes, may span lines
                j = text.find("`", i + 1)
                j = n if j == -1 else j
                literals.append(StringLiteral(i, min(j + 1, n), [text[i + 1:j]]))
                _blank(code, i + 1, j)
                i = j + 1
            else:
                i = template_part(StringLiteral(i, i), i + 1)
        elif ch == "/" and language == "js" and _regex_allowed(code, i):
            j = _regex_end(text, i)
            _blank(code, i + 1, j)
            i = j
        elif ch in "{}" and open_templates:
            literal, start, depth = open_templates[-1]
            if ch == "{":
                open_templates[-1] = (literal, start, depth + 1)
                i += 1
            elif depth:
                open_templates[-1] = (literal, start, depth - 1)
                i += 1
            else:
                open_templates.pop()
                literal.pieces.append(_Field(text[start:i]))
                i = template_part(literal, i + 1)
        else:
            i += 1
    literals.sort(key=lambda lit: lit.start)
    return _Lexed("".join(code), "".join(visible), _merge_concatenated(literals, text))


def _regex_allowed(code: list[str], index: int) -> bool:
    """Is a `/` at `index` the start of a regex literal (not a division)? Decided by what precedes it."""
    j = index - 1
    while j >= 0 and code[j] in " \t\r\n":
        j -= 1
    if j < 0 or code[j] in "(,=:[!&|?{};+-*%<>~^":
        return True
    k = j
    while k >= 0 and (code[k].isalnum() or code[k] in "_$"):
        k -= 1
    return "".join(code[k + 1:j + 1]) in _REGEX_AFTER_WORDS


def _regex_end(text: str, start: int) -> int:
    """End of a regex literal starting at `start` (a lone `/` on its line is a division after all)."""
    j, in_class = start + 1, False
    while j < len(text) and text[j] != "\n":
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            j += 1
            while j < len(text) and (text[j].isalpha()):
                j += 1
            return j
        j += 1
    return start + 1


def _merge_concatenated(literals: list[StringLiteral], text: str) -> list[StringLiteral]:
    """`"SELECT …" + "WHERE …"`: literals joined by `+` only are one string."""
    merged: list[StringLiteral] = []
    for literal in literals:
        previous = merged[-1] if merged else None
        if previous is not None and re.fullmatch(r"\s*\+\s*", text[previous.end:literal.start]):
            previous.pieces.extend(literal.pieces)
            previous.end = literal.end
        else:
            merged.append(StringLiteral(literal.start, literal.end, list(literal.pieces)))
    return merged


def python_literals(text: str) -> list[StringLiteral] | None:
    """String literals of Python source (None when it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    lines = _Lines(text)
    raw_lines = text.split("\n")

    def offset(line: int, byte_column: int) -> int:
        return lines.offset(line, len(raw_lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", "replace")) + 1)

    found: list[StringLiteral] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr):
            continue  # a docstring or a bare string: never executed as a query
        pieces = _fold(node) if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp) else None
        if pieces is not None:
            found.append(StringLiteral(offset(node.lineno, node.col_offset),
                                       offset(node.end_lineno or node.lineno, node.end_col_offset or 0), pieces))
            continue
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda lit: lit.start)


def _fold(node: ast.AST) -> list[str | _Field] | None:
    """A string expression as pieces: constants, f-strings, and `+` of those."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        pieces: list[str | _Field] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                pieces.append(value.value)
            else:
                pieces.append(_Field(ast.unparse(getattr(value, "value", value))))
        return pieces
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        return left + right if left is not None and right is not None else None
    return None


# --- SQL --------------------------------------------------------------------------------------------


_SQL_START = re.compile(r"^\s*(?:SELECT|UPDATE|DELETE|INSERT|WITH)\b", re.IGNORECASE)
_PLACEHOLDERS = re.compile(r"%\([A-Za-z_]\w*\)s|%s|(?<![:\w]):[A-Za-z_]\w*|\?(?![|&])|\{[A-Za-z_]?\w*\}")


# A cheap pre-check per file: some quote directly followed by a statement keyword.
_MAY_HOLD_SQL = re.compile(r"[\"'`]\s*(?:SELECT|UPDATE|DELETE|INSERT|WITH)\b", re.IGNORECASE)
_MAY_HOLD_ORM = re.compile(r"\b(?:eq|findFirst|findMany|delete)\s*\(")


def looks_like_sql(value: str) -> bool:
    return bool(_SQL_START.match(value))


@dataclass(frozen=True)
class SqlProblem:
    table: str  # as written in the query
    action: str  # read | update | delete | insert


def sql_trees(sql: str) -> list[exp.Expression] | None:
    """sqlglot trees of the statements in `sql`, or None when PostgreSQL's grammar or sqlglot rejects it."""
    return tenant_scope.parse(sql)


def sql_problems(tree: exp.Expression, tenancy: Tenancy) -> list[SqlProblem]:
    """Monitored tables the statement reads or writes without constraining the tenant column
    (the analysis `migguard query` shares: `migguard.sql.tenant_scope`)."""
    scope = tenant_scope.TenantScope(tree, lambda table: tenancy.monitored(table.name), tenancy.is_tenant_column,
                                     tenancy.column)
    return list(dict.fromkeys(SqlProblem(r.written, r.action) for r in scope.problems()))


# --- findings --------------------------------------------------------------------------------------

_ACTIONS = {
    "read": ("reads {table} without a {column} filter: a user of one tenant could read other tenants' rows "
             "(for example by guessing ids).",
             "Add `AND {column} = $n` with the caller's tenant to the WHERE clause (or tie a join to another "
             "tenant-scoped table's {column})."),
    "update": ("UPDATE of {table} has no {column} filter: a user of one tenant could modify other tenants' rows.",
               "Add `AND {column} = $n` with the caller's tenant to the WHERE clause."),
    "delete": ("DELETE from {table} has no {column} filter: a user of one tenant could delete other tenants' rows.",
               "Add `AND {column} = $n` with the caller's tenant to the WHERE clause."),
    "insert": ("INSERT into {table} does not set {column}: the row is not bound to the caller's tenant, so it "
               "can land in (or leak to) another tenant.",
               "List {column} in the column list and insert the caller's tenant id."),
}


def _sql_finding(problem: SqlProblem, tenancy: Tenancy, path: str, start: tuple[int, int],
                 end: tuple[int, int]) -> Finding:
    message, hint = _ACTIONS[problem.action]
    values = {"table": problem.table, "column": tenancy.column}
    prefix = "Query " if problem.action == "read" else ""
    return Finding(rule=SQL_RULE, severity=Severity.ERROR, path=path, line=start[0], column=start[1],
                   end_line=end[0], end_column=end[1], message=prefix + message.format(**values),
                   hint=hint.format(**values))


# --- ORM (Drizzle-style) -----------------------------------------------------------------------------

_IDENT = r"[A-Za-z_$][\w$]*"
_EQ_CALL = re.compile(rf"(?<![\w$.])eq\s*\(\s*(?:{_IDENT}\s*\.\s*)*(?P<table>{_IDENT})\s*\.\s*(?P<column>{_IDENT})\s*[,)]")
_FIND_CALL = re.compile(rf"(?P<table>{_IDENT})\s*\.\s*(?P<method>findFirst|findMany)\s*\(")
_DELETE_CALL = re.compile(rf"\.\s*(?P<method>delete)\s*\(\s*(?:{_IDENT}\s*\.\s*)*(?P<table>{_IDENT})\s*[,)]")
_CONTINUE_WORDS = frozenset({"await", "return", "yield", "new", "typeof", "in", "of", "instanceof", "extends"})
_OBJECT_WORDS = frozenset({"return", "yield", "await", "typeof", "case", "in", "of", "throw", "new"})


def _prev_index(text: str, index: int) -> int:
    while index >= 0 and text[index] in " \t\r\n":
        index -= 1
    return index


def _next_index(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _word_before(text: str, index: int) -> str:
    start = index
    while start >= 0 and (text[start].isalnum() or text[start] in "_$"):
        start -= 1
    return text[start + 1:index + 1]


def _continues(code: str, newline: int) -> bool:
    """Does the statement go on past the line break at `newline` (JS automatic semicolons, roughly)?"""
    before, after = _prev_index(code, newline), _next_index(code, newline)
    if before < 0 or after >= len(code):
        return False
    if code[after] in ".?+-*/%&|^<>=,:)]}" or code[before] in "([{,=+-*/%&|^<>?:.!~":
        return True
    return _word_before(code, before) in _CONTINUE_WORDS


def _opens_block(code: str, index: int) -> bool:
    """Is the `{` at `index` a block (function body, if, …) rather than an object literal?"""
    before = _prev_index(code, index - 1)
    if before < 0:
        return True
    ch = code[before]
    if ch == ">" and before > 0 and code[before - 1] == "=":
        return True  # arrow function body
    if ch in "(,:=[?|&!+-*/%~^$":  # `<`/`>` before `{` end a type (`Promise<T> {`): a block
        return False
    return _word_before(code, before) not in _OBJECT_WORDS


def statement_window(code: str, position: int) -> tuple[int, int]:
    """The enclosing statement of `position` in masked JS/TS code: (start, end) offsets."""
    depth, start, i = 0, 0, position - 1
    while i >= 0:
        ch = code[i]
        if ch in ")]":
            depth += 1
        elif ch == "}":
            following = _next_index(code, i + 1)
            if depth == 0 and code[following:following + 1] not in (".", "?", ")", ","):
                start = i + 1
                break
            depth += 1
        elif ch in "([":
            depth = max(depth - 1, 0)
        elif ch == "{":
            if depth == 0 and _opens_block(code, i):
                start = i + 1
                break
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            start = i + 1
            break
        elif ch == "\n" and depth == 0 and not _continues(code, i):
            start = i + 1
            break
        i -= 1
    start = _next_index(code, start)
    depth, i, end = 0, start, len(code)
    while i < len(code):
        ch = code[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                end = i
                break
            depth -= 1
        elif ch == ";" and depth == 0:
            end = i
            break
        elif ch == "\n" and depth == 0 and i > position and not _continues(code, i):
            end = i
            break
        i += 1
    return start, max(end, position)


def _call_end(code: str, open_paren: int) -> int:
    """Offset just after the `)` matching the `(` at `open_paren`."""
    depth = 0
    for i in range(open_paren, len(code)):
        if code[i] in "([{":
            depth += 1
        elif code[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(code)


@dataclass(frozen=True)
class OrmHit:
    rule: str
    table: str  # as written
    start: int
    end: int
    message: str
    hint: str


def orm_hits(lexed: _Lexed, tenancy: Tenancy, admin_route: bool) -> list[OrmHit]:
    """Drizzle-style calls on monitored tables with no tenantId (see the module docstring)."""
    code, visible, token = lexed.code, lexed.visible, tenancy.token
    candidates: list[tuple[int, int, str, OrmHit | None]] = []  # (priority, window start, table, hit or None)

    def scoped(start: int, end: int) -> bool:
        return bool(token.search(visible, start, end))

    for match in _DELETE_CALL.finditer(code):
        table = match["table"]
        if not tenancy.monitored(table):
            continue
        window = statement_window(code, match.start("method"))
        hit = None
        if not admin_route and not scoped(*window):
            hit = OrmHit(DELETE_RULE, table, match.start("method"), _call_end(code, code.index("(", match.start("method"))),
                         f"delete() on {table} outside an admin route has no tenantId scope: a user of one tenant "
                         f"could delete other tenants' {table} rows.",
                         f"Scope it: db.delete({table}).where(and(eq({table}.id, id), eq({table}.tenantId, tenantId))).")
        candidates.append((0, window[0], snake(table), hit))
    for match in _FIND_CALL.finditer(code):
        table, method = match["table"], match["method"]
        if not tenancy.monitored(table):
            continue
        window = statement_window(code, match.start("method"))
        call_end = _call_end(code, match.end() - 1)
        hit = None
        if not scoped(match.end() - 1, call_end):
            hit = OrmHit(ORM_RULE, table, match.start("method"), call_end,
                         f"{method}() on {table} has no tenantId in its filter: a user of one tenant could read other "
                         f"tenants' {table} rows.",
                         f"Filter by tenant: {method}({{ where: and(eq({table}.tenantId, tenantId), …) }}).")
        candidates.append((1, window[0], snake(table), hit))
    for match in _EQ_CALL.finditer(code):
        table, column = match["table"], match["column"]
        if not tenancy.monitored(table) or tenancy.is_tenant_column(column):
            continue
        window = statement_window(code, match.start())
        hit = None
        if not scoped(*window):
            hit = OrmHit(ORM_RULE, table, match.start(), _call_end(code, code.index("(", match.start())),
                         f"Query on {table} filters by {table}.{column} but not by tenantId: a user of one tenant "
                         f"could read or change another tenant's {table} rows by passing their {column}.",
                         f"Add the tenant to the same where: and(eq({table}.{column}, …), eq({table}.tenantId, tenantId)).")
        candidates.append((2, window[0], snake(table), hit))
    chosen: dict[tuple[int, str], OrmHit | None] = {}
    for _priority, start, table, hit in sorted(candidates, key=lambda c: (c[0], c[1])):
        chosen.setdefault((start, table), hit)
    return sorted((h for h in chosen.values() if h is not None), key=lambda h: h.start)


def is_admin_route(path: str) -> bool:
    posix = "/" + path.replace("\\", "/").lstrip("/")
    return "/admin/" in posix or "super-admin" in posix


# --- one file ------------------------------------------------------------------------------------


@dataclass
class FileResult:
    findings: list[Finding] = field(default_factory=list)
    sql_queries: int = 0
    sql_unparsed: int = 0


def scan_text(path: str, text: str, tenancy: Tenancy, language: str | None = None) -> FileResult:
    """Findings of one source file (before the allowlist)."""
    language = language or LANGUAGES.get(Path(path).suffix.lower(), "")
    result = FileResult()
    lines = _Lines(text)
    if language == "sql":
        _scan_sql_file(path, text, tenancy, result)
        return result
    may_hold_sql = bool(_MAY_HOLD_SQL.search(text))
    if not may_hold_sql and not (language == "js" and _MAY_HOLD_ORM.search(text)):
        return result
    if language == "python":
        literals = python_literals(text)
        if literals is None:
            result.findings.append(_unscanned(path, "Python that does not parse; its strings were not scanned"))
            return result
        lexed = None
    elif language in ("js", "go"):
        lexed = _lex_c_like(text, language)
        literals = lexed.literals
    else:
        return result
    for literal in literals if may_hold_sql else ():
        value = literal.value(tenancy)
        if not looks_like_sql(value):
            continue
        trees = sql_trees(_PLACEHOLDERS.sub(" $1 ", value))
        if trees is None:
            result.sql_unparsed += 1
            continue
        result.sql_queries += 1
        for problem in dict.fromkeys(p for tree in trees for p in sql_problems(tree, tenancy)):
            result.findings.append(_sql_finding(problem, tenancy, path, lines.at(literal.start), lines.at(literal.end)))
    if lexed is not None and language == "js":
        for hit in orm_hits(lexed, tenancy, is_admin_route(path)):
            start, end = lines.at(hit.start), lines.at(hit.end)
            result.findings.append(Finding(rule=hit.rule, severity=Severity.ERROR, path=path, line=start[0],
                                           column=start[1], end_line=end[0], end_column=end[1],
                                           message=hit.message, hint=hit.hint))
    return result


def _scan_sql_file(path: str, text: str, tenancy: Tenancy, result: FileResult) -> None:
    from migguard.sql.parse import parse_file

    for statement in parse_file(text).statements:
        if statement.syntax_error is not None or not looks_like_sql(statement.text):
            if statement.syntax_error is not None:
                result.sql_unparsed += 1
            continue
        trees = sql_trees(statement.text)
        if trees is None:
            result.sql_unparsed += 1
            continue
        result.sql_queries += 1
        for problem in dict.fromkeys(p for tree in trees for p in sql_problems(tree, tenancy)):
            result.findings.append(_sql_finding(problem, tenancy, path, (statement.line, statement.column),
                                                (statement.end_line, statement.end_column)))


def _unscanned(path: str, why: str) -> Finding:
    return Finding(rule=UNSCANNED_RULE, severity=Severity.INFO, path=path, line=1, column=1, end_line=1,
                   end_column=1, message=f"Not scanned: {why}.", hint="Check this file's queries by hand.")


# --- allowlist ---------------------------------------------------------------------------------------


@dataclass
class AllowEntry:
    source: Path  # the allowlist file
    number: int  # its line in that file
    path: str
    line: int | None  # None: the whole file
    used: bool = False


@dataclass
class Allowlist:
    entries: list[AllowEntry] = field(default_factory=list)
    texts: dict[Path, str] = field(default_factory=dict)

    def candidates(self, entry: AllowEntry, bases: Iterable[Path]) -> set[Path]:
        relative = Path(entry.path)
        if relative.is_absolute():
            return {relative.resolve()}
        return {(base / relative).resolve() for base in (*bases, entry.source.parent)}


def read_allowlist(path: Path, allowlist: Allowlist | None = None) -> Allowlist:
    """Entries `path:line` and `path:`; `#` comments. A malformed line is an InputError naming it."""
    allowlist = allowlist or Allowlist()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such allowlist file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the allowlist: {getattr(error, 'strerror', None) or 'not UTF-8'}") from None
    allowlist.texts[path.resolve()] = text
    for number, raw in enumerate(text.splitlines(), 1):
        entry = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not entry:
            continue
        target, colon, line = entry.rpartition(":")
        target = target.strip().removeprefix("./")
        if not colon or not target or not (line == "" or (line.strip().isdigit() and int(line) >= 1)):
            raise InputError(f"{path}:{number}: bad allowlist entry '{entry}' (expected 'path:line' or 'path:')")
        allowlist.entries.append(AllowEntry(path.resolve(), number, target, int(line) if line.strip() else None))
    return allowlist


def default_allowlists(paths: Sequence[Path], cwd: Path) -> list[Path]:
    """`.migguard-allow` in the current directory and upwards from each scanned path (within its repository)."""
    found: list[Path] = []
    starts = [cwd, *(p if p.is_dir() else p.parent for p in paths)]
    for start in starts:
        for directory in (start.resolve(), *start.resolve().parents):
            candidate = directory / ALLOWLIST_NAME
            if candidate.is_file():
                if candidate not in found:
                    found.append(candidate)
                break
            if (directory / ".git").exists():
                break
    return found


# --- monitored tables ------------------------------------------------------------------------------


# --- the command ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanOptions:
    """Everything `migguard scan-app` takes from the command line."""

    paths: tuple[str, ...]
    schema: str | None = None
    tables: tuple[str, ...] = ()
    allowlist: str | None = None


@dataclass(frozen=True)
class SourceFile:
    path: Path  # as found
    display: str  # as shown in findings: relative to the current directory, POSIX
    root: Path | None  # the scanned directory it was found in


def collect_files(paths: Sequence[str], excluded: Sequence[Path] = ()) -> list[SourceFile]:
    """Source files named, or found below directories (skipping vendored, built and excluded trees)."""
    excluded_resolved = {p.resolve() for p in excluded}
    files: list[SourceFile] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path, excluded_resolved):
                if file.resolve() not in seen:
                    seen.add(file.resolve())
                    files.append(SourceFile(file, _display(file), path))
        elif path.is_file():
            if path.resolve() not in seen:
                seen.add(path.resolve())
                files.append(SourceFile(path, _display(path), None))
        else:
            raise InputError(f"{raw}: no such file or directory")
    return files


def _walk(directory: Path, excluded: set[Path]) -> Iterator[Path]:
    for root, dirs, names in os.walk(directory):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                         and (here / d).resolve() not in excluded)
        for name in sorted(names):
            lower = name.lower()
            if Path(lower).suffix in LANGUAGES and not lower.endswith((".d.ts", ".min.js")):
                yield here / name


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _read(file: SourceFile) -> str | Finding:
    try:
        data = file.path.read_bytes()
    except OSError as error:
        raise InputError(f"{file.display}: cannot read: {error.strerror}") from None
    if len(data) > _MAX_BYTES:
        return _unscanned(file.display, f"larger than {_MAX_BYTES // 1_000_000} MB (generated code?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _unscanned(file.display, f"not valid UTF-8 (byte {error.start})")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def resolve_tenancy(options: ScanOptions, config) -> tuple[Tenancy, MonitoredTables]:
    """The monitored tables and where they came from (`migguard.scan.tables`)."""
    monitored = monitored_tables(options.tables, options.schema, config)
    return Tenancy(monitored.tables, config.tenant_column), monitored


def run_scan(options: ScanOptions, config) -> Report:
    """The scan-app command as a plain function: options + config → report."""
    if not options.paths:
        raise InputError("scan-app needs at least one PATH")
    cwd, root = Path.cwd(), Path(config.root)
    files = collect_files(options.paths, excluded=[root / config.migrations, root / config.seeds])
    allowlist = Allowlist()
    if options.allowlist:
        read_allowlist(Path(options.allowlist), allowlist)
    else:
        for path in default_allowlists([Path(p) for p in options.paths], cwd):
            read_allowlist(path, allowlist)
    tenancy, monitored = resolve_tenancy(options, config)
    bases = [cwd, *{f.root for f in files if f.root is not None}]
    by_file: dict[Path, list[AllowEntry]] = {}
    for entry in allowlist.entries:
        for candidate in allowlist.candidates(entry, bases):
            by_file.setdefault(candidate, []).append(entry)
    findings = ConfiguredFindings(config.rules)  # [tool.migguard.rules]: "off" drops, a severity replaces
    sources: dict[str, str] = {}
    totals = {"sql_queries": 0, "sql_unparsed": 0, "allowlisted": 0}
    scanned: set[Path] = set()
    for file in files:
        resolved = file.path.resolve()
        scanned.add(resolved)
        text = _read(file)
        if isinstance(text, Finding):
            findings.append(text)
            continue
        result = scan_text(file.display, text, tenancy)
        totals["sql_queries"] += result.sql_queries
        totals["sql_unparsed"] += result.sql_unparsed
        kept = [f for f in result.findings if not _allowed(f, by_file.get(resolved, []))]
        totals["allowlisted"] += len(result.findings) - len(kept)
        if kept:
            sources[file.display] = text
        findings += kept
    findings += _unused_entries(allowlist, bases, scanned, sources)
    findings.sort(key=lambda f: f.sort_key)
    summary = {
        "files": len(files),
        "tables": len(tenancy.tables),
        "tables_source": monitored.source,
        "tables_from": monitored.detail,
        "errors": sum(1 for f in findings if f.severity == Severity.ERROR),
        "warnings": sum(1 for f in findings if f.severity == Severity.WARNING),
        "infos": sum(1 for f in findings if f.severity == Severity.INFO),
        **totals,
    }
    return Report(command="scan-app", ok=gate_passes(findings, strict=False), findings=tuple(findings),
                  summary=summary, sources=sources)


def _allowed(finding: Finding, entries: list[AllowEntry]) -> bool:
    allowed = False
    for entry in entries:
        if entry.line is None or finding.line <= entry.line <= max(finding.line, finding.end_line):
            entry.used = True
            allowed = True
    return allowed


def _unused_entries(allowlist: Allowlist, bases: list[Path], scanned: set[Path],
                    sources: dict[str, str]) -> list[Finding]:
    findings = []
    for entry in allowlist.entries:
        if entry.used:
            continue
        candidates = allowlist.candidates(entry, bases)
        if candidates & scanned:
            message = f"Allowlist entry '{entry.path}:{entry.line or ''}' silences nothing: the query moved or was fixed."
        elif not any(c.exists() for c in candidates):
            message = f"Allowlist entry '{entry.path}:{entry.line or ''}' names a file that does not exist."
        else:
            continue  # a file this run did not scan
        display = _display(entry.source)
        sources.setdefault(display, allowlist.texts.get(entry.source, ""))
        findings.append(Finding(rule=UNUSED_RULE, severity=Severity.WARNING, path=display, line=entry.number,
                                column=1, end_line=entry.number, end_column=1, message=message,
                                hint="Remove the entry, or point it at the line the finding now reports."))
    return findings

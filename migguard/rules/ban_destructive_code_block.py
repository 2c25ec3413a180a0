"""
## What it does
Refuses a `DO` block, or a `CREATE FUNCTION` / `CREATE PROCEDURE`, whose body contains
`DROP TABLE`, `DROP SCHEMA`, `DROP DATABASE`, `DROP COLUMN`, `TRUNCATE` or a `DELETE FROM` without
`WHERE`, unless `--allow-destructive` is given. It finds them both as SQL written in the body and
inside the strings a body runs with `EXECUTE` (including `format()` templates), and says which.

## Why it is dangerous
The statement-level rules cannot see into a body, so a destructive statement there escapes
review. In a `DO` block it runs during the migration; with dynamic SQL the tables it destroys are
only known at run time, and a loop over the catalog can empty or drop far more than intended. In a
function or procedure it runs whenever someone calls it, long after the migration was reviewed.

## Bad
```sql
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'staging' LOOP
    EXECUTE format('DROP TABLE staging.%I', t);
  END LOOP;
END $$;
```

## Good
```sql
-- Name each object in plain SQL, where review and the other rules see it:
DROP TABLE staging.import_batches;
DROP TABLE staging.import_rows;
```

## When it does not fire
`DROP TABLE`, `TRUNCATE` and `DELETE` of a table the same body creates (a temporary work table);
`DELETE … WHERE`; text in `--` and `/* */` comments of the body; string literals in a body that
never runs dynamic SQL (no `EXECUTE` or `format()`); C and internal functions. A body's statements
that are written out in plain SQL are better moved out of it, where the statement-level rules
check them. With `--allow-destructive` the finding is a warning and does not fail the gate.

## References
- https://www.postgresql.org/docs/current/sql-do.html
- https://www.postgresql.org/docs/current/plpgsql-statements.html#PLPGSQL-STATEMENTS-EXECUTING-DYN
- https://www.postgresql.org/docs/current/sql-createfunction.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


from migguard.commands import CodeBlock
from migguard.findings import Severity
from migguard.rules.base import Rule, Violation, at
from migguard.rules.context import LintContext

HINT = (
    "Write each destructive statement out in plain SQL in the migration, naming its objects, so review and "
    "the other rules see it; run it with --allow-destructive once a backup exists."
)

_NAME = r'(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?'
_NAMES = rf"(?:if\s+exists\s+)?(?:only\s+)?(?P<names>{_NAME}(?:\s*,\s*{_NAME})*)?"
# What is looked for → pattern; DELETE is judged separately (it needs the WHERE check).
_PATTERNS = {
    "DROP TABLE": re.compile(rf"\bdrop\s+table\b\s*{_NAMES}", re.IGNORECASE),
    "DROP SCHEMA": re.compile(rf"\bdrop\s+schema\b\s*{_NAMES}", re.IGNORECASE),
    "DROP DATABASE": re.compile(rf"\bdrop\s+database\b\s*{_NAMES}", re.IGNORECASE),
    "DROP COLUMN": re.compile(rf"\bdrop\s+column\b\s*{_NAMES}", re.IGNORECASE),
    "TRUNCATE": re.compile(rf"\btruncate\b(?!\s*\()\s*(?:table\s+)?{_NAMES}", re.IGNORECASE),
}
_DELETE = re.compile(rf"\bdelete\s+from\b\s*(?:only\s+)?(?P<names>{_NAME})?", re.IGNORECASE)
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)
# A WHERE that keeps every row: `WHERE true`, `WHERE 1 = 1`, up to the end of the statement.
_WHERE_TRUE = re.compile(r"\bwhere\s+(?:true|\(?\s*1\s*=\s*1\s*\)?)\s*(?:returning\b|$)", re.IGNORECASE)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_CREATED = re.compile(rf"\bcreate\s+(?:(?:global\s+|local\s+)?(?:temp|temporary)\s+|unlogged\s+)?table\s+"
                      rf"(?:if\s+not\s+exists\s+)?(?P<name>{_NAME})", re.IGNORECASE)
_ALTER = re.compile(r"alter\s+table\b", re.IGNORECASE)
_DYNAMIC = re.compile(r"\bexecute\b|\bformat\s*\(", re.IGNORECASE)
_NOT_SQL = {"c", "internal"}
_SQL = {"sql", "plpgsql"}


@dataclass(frozen=True, slots=True)
class Found:
    what: str  # DROP TABLE, TRUNCATE, DELETE without WHERE, …
    dynamic: bool
    position: int  # offset in the body
    names: tuple[str, ...]


def check(context: LintContext) -> Iterator[Violation]:
    for statement in context.parsed():
        block = statement.command
        if not isinstance(block, CodeBlock) or block.language.lower() in _NOT_SQL or not block.body:
            continue
        found = scan(block.body) if block.language.lower() in _SQL else _scan_other(block.body)
        seen: dict[tuple[str, bool], list[Found]] = {}
        for item in found:
            seen.setdefault((item.what, item.dynamic), []).append(item)
        body_at = statement.text.find(block.body)
        for (what, dynamic), items in seen.items():
            names = list(dict.fromkeys(n for item in items for n in item.names))
            offset = body_at + items[0].position if body_at >= 0 else at(statement, r"\bas\b|\$")
            yield Violation(statement, _message(block, what, dynamic, names), HINT, offset=offset)


def _message(block: CodeBlock, what: str, dynamic: bool, names: list[str]) -> str:
    owner = "The DO block" if block.kind == "do" else f"{block.kind.capitalize()} {block.name}"
    when = "during the migration" if block.kind == "do" else "whenever it is called"
    target = f" ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})" if names and not dynamic else ""
    how = "hidden inside its body, where the statement-level rules do not look"
    if dynamic and block.language.lower() in _SQL:
        how = "as dynamic SQL (EXECUTE), so which objects it destroys is only known at run time"
    elif dynamic:
        how = f"as SQL its {block.language} code sends, which the statement-level rules cannot see"
    return f"{owner} runs {what}{target} {when}, {how}; the data it removes is lost."


# --- scanning a SQL or PL/pgSQL body ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<line_comment>--[^\n]*)"
    r"|(?P<block_comment>/\*.*?(?:\*/|\Z))"
    r"|(?P<dollar>\$(?P<tag>[A-Za-z_][\w]*)?\$)"
    r"|(?P<estring>[eE]'(?:[^'\\]|\\.|'')*(?:'|\Z))"
    r"|(?P<string>'(?:[^']|'')*(?:'|\Z))"
    r"|(?P<ident>\"(?:[^\"]|\"\")*(?:\"|\Z))",
    re.DOTALL,
)


def _split(body: str) -> tuple[str, list[tuple[int, str]]]:
    """The body with comments and literal contents blanked (same length), and the literals (offset, content).

    Quoted identifiers are matched only so that a quote inside one does not open a string.
    """
    code = list(body)
    literals: list[tuple[int, str]] = []
    position = 0
    while True:
        match = _TOKEN.search(body, position)
        if match is None:
            break
        start, end = match.span()
        kind = match.lastgroup if match.lastgroup != "tag" else "dollar"
        if match.group("dollar") is not None:
            delimiter = match.group("dollar")
            close = body.find(delimiter, end)
            stop = len(body) if close == -1 else close + len(delimiter)
            literals.append((end, body[end:close if close != -1 else len(body)]))
            _blank(code, end, stop - (len(delimiter) if close != -1 else 0))
            position = stop
            continue
        if kind in ("line_comment", "block_comment"):
            _blank(code, start, end)
        elif kind == "estring":
            literals.append((start + 2, body[start + 2:end - 1]))
            _blank(code, start + 2, end - 1)
        elif kind == "string":
            literals.append((start + 1, body[start + 1:end - 1].replace("''", "'")))
            _blank(code, start + 1, end - 1)
        position = max(end, start + 1)
    return "".join(code), literals


def _blank(code: list[str], start: int, end: int) -> None:
    for index in range(start, min(end, len(code))):
        if code[index] != "\n":
            code[index] = " "


def scan(body: str) -> list[Found]:
    """Destructive statements in a SQL / PL/pgSQL body: written out (static) or in EXECUTE strings (dynamic)."""
    code, literals = _split(body)
    created: dict[str, int] = {}
    for match in _CREATED.finditer(code):
        created.setdefault(_bare(match.group("name")), match.start())
    runs_dynamic = bool(_DYNAMIC.search(code))
    found: list[Found] = []
    start = 0
    for piece in code.split(";"):
        end = start + len(piece)
        found.extend(_static(piece, start, created))
        pieces_literals = [(offset, text) for offset, text in literals if start <= offset < end]
        if pieces_literals and (runs_dynamic or _DYNAMIC.search(piece)):
            found.extend(_dynamic(pieces_literals))
        start = end + 1
    return found


def _static(piece: str, start: int, created: dict[str, int]) -> Iterator[Found]:
    def work_tables(names: list[str], position: int) -> bool:
        """Are all `names` tables the body created before `position` (temporary work tables)?"""
        return bool(names) and all(created.get(_bare(n), position) < position for n in names)

    for what, pattern in _PATTERNS.items():
        for match in pattern.finditer(piece):
            names = _names(match.group("names"))
            if what in ("DROP TABLE", "TRUNCATE") and work_tables(names, start + match.start()):
                continue
            yield Found(what, False, start + match.start(), tuple(names))
    for match in _DELETE.finditer(piece):
        names = _names(match.group("names"))
        if _narrowed(piece, match.end()) or work_tables(names, start + match.start()):
            continue
        yield Found("DELETE without WHERE", False, start + match.start(), tuple(names))


def _dynamic(literals: list[tuple[int, str]]) -> Iterator[Found]:
    """The literals of one statement as the SQL text an EXECUTE would run.

    Only text that reads as a statement counts: a literal that starts with the verb (or with ALTER
    TABLE, for DROP COLUMN), read together with the literals after it (`'DELETE FROM ' || t || ' WHERE
    …'`). So messages such as RAISE 'cannot truncate …' are not taken for SQL.
    """
    reported: set[str] = set()
    for index, (offset, _) in enumerate(literals):
        text = _LINE_COMMENT.sub(" ", " ".join(content for _, content in literals[index:]))
        for part in (p.strip() for p in text.split(";")):
            for what, pattern in _PATTERNS.items():
                hit = pattern.search(part) if what == "DROP COLUMN" and _ALTER.match(part) else pattern.match(part)
                if hit and what not in reported:
                    reported.add(what)
                    yield Found(what, True, offset, ())
            delete = _DELETE.match(part)
            if delete and not _narrowed(part, delete.end()) and "DELETE without WHERE" not in reported:
                reported.add("DELETE without WHERE")
                yield Found("DELETE without WHERE", True, offset, ())


def _scan_other(body: str) -> list[Found]:
    """A body in another language (PL/Python, PL/v8 …): any match is SQL it sends to the server."""
    found = [Found(what, True, m.start(), ()) for what, p in _PATTERNS.items() if (m := p.search(body))]
    for match in _DELETE.finditer(body):
        if not _narrowed(body[:match.end() + 400], match.end()):
            found.append(Found("DELETE without WHERE", True, match.start(), ()))
            break
    return found


def _narrowed(text: str, position: int) -> bool:
    """Does a WHERE that is not constantly true follow `position` in this statement's text?"""
    where = _WHERE.search(text, position)
    return where is not None and not _WHERE_TRUE.match(text.rstrip(), where.start())


def _names(text: str | None) -> list[str]:
    if not text:
        return []
    return [" ".join(part.split()) for part in re.split(r"\s*,\s*", text.strip())]


def _bare(name: str) -> str:
    """A table name without schema or quotes, lower-cased unless quoted."""
    last = re.split(r"\s*\.\s*", name.strip())[-1]
    return last[1:-1] if last.startswith('"') else last.lower()


RULE = Rule(
    id="ban-destructive-code-block",
    default_severity=Severity.ERROR,
    summary="A DO block or function body hides DROP TABLE/COLUMN, TRUNCATE or a DELETE without WHERE",
    family="destructive",
    doc=__doc__,
    check=check,
    destructive=True,
)

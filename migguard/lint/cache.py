"""lint's cache: the findings of each file, keyed by what decides them, in one file under `.migguard/cache`.

A warm lint of a large tree reads its findings from here, so the file is built to load fast: one JSON
document read once per run, every string (a rule id, a message, a hint) stored once in a table and
referenced by index from compact rows, each row's values checked for their types and assembled into a
Finding without a second validation (see `_assembler`). Nothing in it is executed or unpickled. A cache
that cannot be read, or an entry that does not check out, is a miss: it only costs the time to lint the
file again. The file holds the entries of one version of migguard's code only (the key includes it too),
so that it does not grow with every upgrade.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from migguard import __version__
from migguard.core.findings import Finding, Severity

if TYPE_CHECKING:
    from migguard.lint.settings import LintSettings


class _Target(Protocol):
    path: str
    text: str


class _Policy(Protocol):
    fingerprint: str


# A finding's fields as a row; the path is the file's own (it is part of the key), the strings are indexes.
_FIELDS = ("rule", "severity", "line", "column", "end_line", "end_column", "statement", "message", "hint")
_STRING_FIELDS = frozenset({"rule", "severity", "message", "hint"})


@functools.cache
def code_version() -> str:
    """migguard's version plus the size and mtime of its modules: an edited rule invalidates the cache."""
    package = Path(__file__).parents[1]
    stats = []
    for root, directories, names in os.walk(package):
        directories.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                stat = os.stat(path)
                stats.append((os.path.relpath(path, package), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(repr((__version__, sorted(stats))).encode()).hexdigest()


@functools.cache
def _validator():
    from pydantic import TypeAdapter

    return TypeAdapter(list[Finding])


class LintCache:
    """Findings per file, keyed by content, path, settings and version: read once, written once
    (atomically) per run. `directory` None: no cache (--no-cache)."""

    FILE = "lint-v2.json"
    FORMAT = 2
    OLDER = ("lint-v1.json",)  # earlier formats, removed when this one is written
    MAX_ENTRIES = 50_000

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._strings: list[str] = []
        self._entries: dict[str, list[list]] | None = None
        self._positions: dict[str, int] | None = None  # string → index in _strings, made on the first put
        self._hashed: tuple | None = None  # (settings, rules, the sha256 state of the key up to them)
        self._dirty = False

    def key(self, target: _Target, settings: LintSettings, policy: _Policy) -> str:
        """A hash of the code version, settings and rules (hashed once per run), the path and the text."""
        if self._hashed is None or self._hashed[0] is not settings or self._hashed[1] is not policy:
            # A run asks with the same two objects for every file: the part of the key they decide is hashed once.
            common = "\0".join([code_version(), repr(settings), policy.fingerprint, ""])
            self._hashed = (settings, policy, hashlib.sha256(common.encode()))
        digest = self._hashed[2].copy()
        digest.update(f"{len(target.path)}:{target.path}\0{target.text}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _load(self) -> dict[str, list[list]]:
        if self._entries is None:
            self._entries = {}
            if self.directory is not None:
                try:
                    data = json.loads((self.directory / self.FILE).read_bytes())
                except (OSError, ValueError):
                    return self._entries
                # Entries of another migguard (an upgrade, an edited rule) can never match again: not kept.
                if (isinstance(data, dict) and data.get("format") == self.FORMAT and data.get("code") == code_version()
                        and isinstance(data.get("strings"), list) and isinstance(data.get("entries"), dict)
                        and all(isinstance(s, str) for s in data["strings"])):
                    self._strings, self._entries = data["strings"], data["entries"]
        return self._entries

    def get(self, key: str, path: str) -> list[Finding] | None:
        """The cached findings of the file at `path` under `key`, or None."""
        return self.get_many([(key, path)])[0]

    def get_many(self, wanted: Sequence[tuple[str, str]]) -> list[list[Finding] | None]:
        """The cached findings for each (key, path), None where there are none (or they do not validate)."""
        if self.directory is None:
            return [None] * len(wanted)
        entries, strings = self._load(), self._strings
        found: list[list[Finding] | None] = [None] * len(wanted)
        assemble = _assembler()
        rows: list[dict] = []
        spans: list[tuple[int, int, int]] = []  # (position in wanted, first row, end row)
        for position, (key, path) in enumerate(wanted):
            entry = entries.get(key)
            if entry is None:
                continue
            try:
                items = [_item(row, path, strings) for row in entry]
                if assemble is not None:
                    found[position] = [assemble(item) for item in items]
                    continue
            except (TypeError, ValueError, IndexError, KeyError):
                continue
            spans.append((position, len(rows), len(rows) + len(items)))
            rows.extend(items)
        if not spans:
            return found
        from pydantic import ValidationError

        try:
            findings = _validator().validate_python(rows)
        except ValidationError:  # some entry is damaged: keep the others
            for position, start, end in spans:
                try:
                    found[position] = _validator().validate_python(rows[start:end])
                except ValidationError:
                    pass
            return found
        for position, start, end in spans:
            found[position] = findings[start:end]
        return found

    def put(self, key: str, findings: list[Finding]) -> None:
        if self.directory is None:
            return
        self._load()
        index = self._index()
        self._entries[key] = [[index(value) if name in _STRING_FIELDS and value is not None else value
                               for name, value in zip(_FIELDS, _values(finding), strict=True)]
                              for finding in findings]
        self._dirty = True

    def _index(self):
        """string → its index in the table, adding it when new."""
        if self._positions is None:
            self._positions = {s: i for i, s in enumerate(self._strings)}
        positions, strings = self._positions, self._strings

        def index(value: str) -> int:
            position = positions.get(value)
            if position is None:
                position = positions[value] = len(strings)
                strings.append(value)
            return position
        return index

    def save(self) -> None:
        if self.directory is None or not self._dirty:
            return
        entries = self._load()
        if len(entries) > self.MAX_ENTRIES:  # oldest first in insertion order
            entries = dict(list(entries.items())[-self.MAX_ENTRIES:])
        strings, table = self._compact(entries)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f"{self.FILE}.{os.getpid()}.tmp"
            document = {"format": self.FORMAT, "code": code_version(), "strings": strings, "entries": table}
            tmp.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            tmp.replace(self.directory / self.FILE)
            for older in self.OLDER:
                (self.directory / older).unlink(missing_ok=True)
        except OSError:
            pass
        self._dirty = False

    def _compact(self, entries: dict[str, list[list]]) -> tuple[list[str], dict[str, list[list]]]:
        """The entries kept, with a table of only the strings they use (dropped entries leave theirs
        behind); a damaged entry read from the file is dropped."""
        old, strings, positions = self._strings, [], {}
        columns = [i for i, name in enumerate(_FIELDS) if name in _STRING_FIELDS]

        def index(position: object) -> int:
            if type(position) is not int or position < 0:
                raise ValueError("not a string index")
            value = old[position]
            new = positions.get(value)
            if new is None:
                new = positions[value] = len(strings)
                strings.append(value)
            return new

        table = {}
        for key, rows in entries.items():
            try:
                compacted = []
                for row in rows:
                    if not isinstance(row, list) or len(row) != len(_FIELDS):
                        raise ValueError("not a row")
                    row = list(row)
                    for column in columns:
                        if row[column] is not None:
                            row[column] = index(row[column])
                    compacted.append(row)
            except (TypeError, ValueError, IndexError):
                continue
            table[key] = compacted
        return strings, table


def _values(finding: Finding) -> tuple:
    return (finding.rule, finding.severity.value, finding.line, finding.column, finding.end_line,
            finding.end_column, finding.statement, finding.message, finding.hint)


def _item(row: list, path: str, strings: list[str]) -> dict:
    """A stored row as the fields of a Finding, each of its type (the table holds only str); a damaged row
    raises TypeError, ValueError, IndexError or KeyError."""
    rule, severity, line, column, end_line, end_column, statement, message, hint = row
    for position in (rule, severity, message) if hint is None else (rule, severity, message, hint):
        if type(position) is not int or position < 0:
            raise ValueError("not a string index")
    if not (type(line) is int and type(column) is int and type(end_line) is int and type(end_column) is int
            and (statement is None or type(statement) is int)):
        raise ValueError("not a number")
    return {"rule": strings[rule], "severity": _SEVERITIES[strings[severity]], "path": path, "line": line,
            "column": column, "end_line": end_line, "end_column": end_column, "statement": statement,
            "message": strings[message], "hint": None if hint is None else strings[hint]}


_SEVERITIES = {severity.value: severity for severity in Severity}


@functools.cache
def _assembler() -> Callable[[dict], Finding] | None:
    """A Finding made from field values _item has checked, as pydantic's model_construct makes one (its
    four instance slots set), without the validation: some 15,000 findings of a warm lint in half the
    time. None, and every entry is validated instead, if the result is not exactly the validated Finding
    (a pydantic that builds its models differently)."""
    names = frozenset(Finding.model_fields)
    make, store = object.__new__, object.__setattr__

    def assemble(values: dict) -> Finding:
        finding = make(Finding)
        store(finding, "__dict__", values)
        store(finding, "__pydantic_fields_set__", set(names))
        store(finding, "__pydantic_extra__", None)
        store(finding, "__pydantic_private__", None)
        return finding

    sample = {"rule": "r", "severity": Severity.ERROR, "path": "p.sql", "line": 1, "column": 2, "end_line": 3,
              "end_column": 4, "statement": None, "message": "m", "hint": None}
    try:
        made, validated = assemble(dict(sample)), Finding.model_validate(sample)  # a probe, not a finding lint emits
        same = (made == validated and hash(made) == hash(validated) and made.model_dump() == validated.model_dump()
                and made.model_fields_set == validated.model_fields_set and list(vars(made)) == list(vars(validated))
                and made.model_copy(update={"line": 9}) == validated.model_copy(update={"line": 9}))
    except Exception:  # noqa: BLE001 - any difference means: validate instead
        same = False
    return assemble if same else None

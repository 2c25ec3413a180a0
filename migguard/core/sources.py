"""Find migration files, detect their layout, order them, read them, checksum them.

Layouts (SPEC section 1), detected automatically unless configured:
- plain:   `0001_create_accounts.sql`, or a directory per migration holding `migration.sql` (prisma);
- flyway:  `V3__add_index.sql`; `U3__…` is its down script; `R__…` repeatables run last, by name;
- updown:  `<dir>/up.sql` + `<dir>/down.sql` (diesel), or `0003_x.up.sql` + `0003_x.down.sql`;
- dbmate:  one file with `-- migrate:up` and `-- migrate:down` sections.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from migguard.core.errors import InputError

_FLYWAY = re.compile(r"^(?P<kind>[VUR])(?P<version>[0-9][0-9._]*)?__(?P<name>.+)\.sql$", re.IGNORECASE)
_UPDOWN_FILE = re.compile(r"^(?P<stem>.+)\.(?P<dir>up|down)\.sql$", re.IGNORECASE)
_LEADING_VERSION = re.compile(r"^(?P<version>[0-9]+(?:[._-][0-9]+)*)[_-]?(?P<name>.*)$")
_DBMATE_UP = re.compile(r"^\s*--\s*migrate:up\b.*$", re.MULTILINE | re.IGNORECASE)
_DBMATE_DOWN = re.compile(r"^\s*--\s*migrate:down\b.*$", re.MULTILINE | re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration: its version, name, forward script and optional hand-written down script.

    Each file is read at most once, on first use, and its text kept: lint, checksum, plan and
    the runner all see the same bytes, however the file changes on disk meanwhile.
    """

    version: str
    name: str
    up: Path
    down: Path | None = None
    dbmate: bool = False  # up and down are sections of one file
    repeatable: bool = False
    _texts: dict[Path, str] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def _read(self, path: Path) -> str:
        if path not in self._texts:
            self._texts[path] = read_sql(path)
        return self._texts[path]

    def up_sql(self) -> str:
        text = self._read(self.up)
        return dbmate_section(text, "up") if self.dbmate else text

    def down_sql(self) -> str | None:
        if self.dbmate:
            return dbmate_section(self._read(self.up), "down") or None
        return self._read(self.down) if self.down else None

    def checksum(self) -> str:
        return checksum(self.up_sql())


def read_sql(path: Path | str) -> str:
    """A SQL file's text: UTF-8 (a BOM is dropped); anything else is a clear input error."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a SQL file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    return decode_sql(str(path), data)


def decode_sql(name: str, data: bytes) -> str:
    """SQL bytes as text: UTF-8 (a BOM is dropped), without NUL bytes.

    A NUL ends the string PostgreSQL's parser (and libpq) sees, so whatever follows it would be
    covered by the checksum yet hidden from lint and from execution: refused, naming where it is."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(f"{name}: contains a NUL byte at byte offset {nul} (line {line}); PostgreSQL would "
                         "ignore everything after it, so remove it")
    bom = len(_BOM) if data.startswith(_BOM) else 0  # what "utf-8-sig" drops, without its Python-level codec
    try:
        return data[bom:].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError as error:
        # counted after the BOM, as the "utf-8-sig" codec counts
        raise InputError(f"{name}: not valid UTF-8 (byte {error.start}); save the SQL as UTF-8") from None


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dbmate_section(text: str, which: str) -> str:
    """The up or down section of a dbmate file, other lines blanked so positions stay exact."""
    up, down = _DBMATE_UP.search(text), _DBMATE_DOWN.search(text)
    if up is None and down is None:
        return text if which == "up" else ""
    if which == "up":
        start, stop = (up.end() if up else 0), (down.start() if down and (not up or down.start() > up.end()) else len(text))
    else:
        if down is None:
            return ""
        start = down.end()
        stop = up.start() if up and up.start() > down.end() else len(text)
    return _blank(text[:start]) + text[start:stop] + _blank(text[stop:])


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def is_dbmate(text: str) -> bool:
    # ASCII text without the marker in any case is answered without the regular expression, six times
    # faster; other text goes to it (IGNORECASE lets a few non-ASCII letters, like U+0130, match i).
    if text.isascii() and "migrate:up" not in text.lower():
        return False
    return bool(_DBMATE_UP.search(text))


def detect_layout(files: list[Path]) -> str:
    """The layout a set of .sql files follows (SPEC section 1)."""
    names = [f.name for f in files]
    if any(n.lower() in ("up.sql", "down.sql") for n in names) or any(_UPDOWN_FILE.match(n) for n in names):
        return "updown"
    if any(_FLYWAY.match(n) for n in names) and all(_FLYWAY.match(n) for n in names):
        return "flyway"
    for path in files[:20]:
        try:
            if is_dbmate(path.read_text(encoding="utf-8", errors="replace")[:4000]):
                return "dbmate"
        except OSError:
            continue
    return "plain"


def sql_files(directory: Path) -> list[Path]:
    """Every regular .sql file below `directory` (a directory named *.sql is not a file), in the order of
    sorted paths: what `sorted(p for p in directory.rglob("*.sql") if p.is_file())` gives (symbolic links
    to directories not followed, unreadable directories skipped), without a Path per directory entry
    (a walk of thousands of files spent most of its time in pathlib)."""
    return [directory.joinpath(*parts) for parts in _sql_parts(directory)]


def sql_file_names(directory: Path) -> list[str]:
    """`[p.as_posix() for p in sql_files(directory)]`, without making the Paths: lint reads thousands
    of files by name."""
    base = directory.as_posix()
    prefix = "" if base == "." else base if base.endswith("/") else base + "/"  # Path(".") / "a" is "a"
    return [prefix + "/".join(parts) for parts in _sql_parts(directory)]


def _sql_parts(directory: Path) -> list[tuple[str, ...]]:
    """The .sql files below `directory` as tuples of path parts, sorted as their paths sort (part by part)."""
    found: list[tuple[str, ...]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except PermissionError:
            return
        for entry in listed:
            name = entry.name
            if name.endswith(".sql") and entry.is_file():
                found.append((*parts, name))
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, (*parts, name))

    walk(os.fspath(directory), ())
    found.sort()
    return found


def discover(directory: Path, layout: str = "auto", unique: bool = True) -> list[Migration]:
    """The migrations in `directory`, in the order they apply.

    `unique`: two files with one version are an input error (the history keys by version); lint,
    which only reads the files, passes False."""
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory")
    files = sql_files(directory)
    if layout == "auto":
        layout = detect_layout(files)
    builder = {"plain": _plain, "flyway": _flyway, "updown": _updown, "dbmate": _dbmate}[layout]
    migrations = builder(directory, files)
    if unique:
        _refuse_duplicate_versions(migrations)
    return sorted(migrations, key=lambda m: (m.repeatable, _version_key(m.version, layout == "flyway"), m.name))


def _refuse_duplicate_versions(migrations: list[Migration]) -> None:
    """Two files with one version: the history table keys by version, so one would shadow the
    other (a plan that never matches, or a migration silently skipped). Refused, naming both."""
    seen: dict[str, Path] = {}
    for migration in sorted(migrations, key=lambda m: str(m.up)):
        if migration.repeatable:
            continue
        first = seen.setdefault(migration.version, migration.up)
        if first != migration.up:
            raise InputError(f"two migrations have version {migration.version}: {first} and {migration.up}; "
                             "give one of them a new version")


def _version_key(version: str, dotted: bool = False) -> tuple:
    """Order of versions. Timestamps written with or without separators (`2017-08-31-230457`,
    `20140924113530`) compare by their digits; flyway's dotted versions (1.1 < 1.10 < 2) part by part."""
    parts = re.split(r"[._-]", version)
    if not dotted and all(part.isdigit() for part in parts) and _is_timestamp(parts):
        # a date or timestamp, with or without separators: earlier first, whatever the precision
        return ((1, 0, "".join(parts).ljust(20, "0")),)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts)


def _is_timestamp(parts: list[str]) -> bool:
    """20140924113530, 20250625, 2017-08-31-230457 — not 0030_2.0.0 or 42."""
    if len(parts[0]) >= 8:
        return True
    return len(parts) >= 3 and len(parts[0]) == 4 and parts[0][:2] in ("19", "20") and len(parts[1]) == 2


def _split_name(stem: str) -> tuple[str, str]:
    match = _LEADING_VERSION.match(stem)
    if match:
        return match["version"], match["name"] or stem
    return stem, stem


def _plain(directory: Path, files: list[Path]) -> list[Migration]:
    migrations = []
    for path in files:
        # prisma & co: <version_name>/migration.sql — the directory carries the version.
        stem = path.parent.name if path.name == "migration.sql" and path.parent != directory else path.stem
        version, name = _split_name(stem)
        migrations.append(Migration(version, name, path))
    return migrations


def _flyway(directory: Path, files: list[Path]) -> list[Migration]:
    downs: dict[str, Path] = {}
    entries = []
    for path in files:
        match = _FLYWAY.match(path.name)
        if not match:
            continue
        kind = match["kind"].upper()
        version = (match["version"] or "").replace("_", ".")
        if kind == "U":
            downs[version] = path
        else:
            entries.append((kind, version, match["name"], path))
    return [
        Migration(version or "R", name, path, downs.get(version), repeatable=kind == "R")
        for kind, version, name, path in entries
    ]


def _updown(directory: Path, files: list[Path]) -> list[Migration]:
    ups: dict[tuple[Path, str], Path] = {}
    downs: dict[tuple[Path, str], Path] = {}
    for path in files:
        lower = path.name.lower()
        if lower in ("up.sql", "down.sql"):
            key, target = (path.parent.parent, path.parent.name), ups if lower == "up.sql" else downs
        else:
            match = _UPDOWN_FILE.match(path.name)
            if not match:
                continue
            key, target = (path.parent, match["stem"]), ups if match["dir"].lower() == "up" else downs
        target[key] = path
    migrations = []
    for key, up in ups.items():
        version, name = _split_name(key[1])
        migrations.append(Migration(version, name, up, downs.get(key)))
    return migrations


def _dbmate(directory: Path, files: list[Path]) -> list[Migration]:
    return [Migration(*_split_name(path.stem), path, dbmate=True) for path in files]

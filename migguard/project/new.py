"""`migguard new`: a migration (feature) or seed file from a template, inside the write path only.

POLICY (Write Path Policies, Database Operations): database changes are written only under the
configured `migrations` and `seeds` directories, and every migration starts from a template
(`--template seed|feature`). This module finds the template (the project's `templates/` beside
its config overrides the bundled ones), numbers the file after the newest one in the layout in
use, and writes it without ever leaving the write path or overwriting a file:

- NAME is a plain name: no path separator, no `..`, not absolute;
- the write path must not be (or sit below) a symbolic link that leads somewhere else;
- every target must resolve inside the write path, and must not exist yet (O_EXCL, no follow).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from migguard.core.errors import InputError
from migguard.core.sources import Migration, detect_layout, discover, sql_files
from migguard.core.templates import TEMPLATES, template_header

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_NUMERIC_VERSION = re.compile(r"^[0-9]+(?:[._-][0-9]+)*$")
_FLYWAY_V = re.compile(r"^V(?P<version>[0-9][0-9._]*)__", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


# --- templates -----------------------------------------------------------------------------------


def bundled_templates() -> Path | None:
    """migguard's own templates: in the wheel (`migguard/_templates`), or the repository's
    top-level `templates/` in an editable install."""
    package = Path(__file__).resolve().parents[1]
    candidates = [package / "_templates"]
    if (package.parent / "pyproject.toml").is_file():  # a source checkout, not site-packages
        candidates.append(package.parent / "templates")
    for candidate in candidates:
        if (candidate / "feature.sql").is_file():
            return candidate
    return None


def find_template(name: str, root: Path) -> Path:
    """`templates/<name>.sql` of the project (beside its config) if it has one, else the bundled one."""
    own = root / "templates" / f"{name}.sql"
    if own.is_file():
        return own
    bundled = bundled_templates()
    if bundled is not None and (bundled / f"{name}.sql").is_file():
        return bundled / f"{name}.sql"
    raise InputError(f"no template '{name}': {own} does not exist and migguard's bundled templates are missing "
                     "(reinstall migguard)")


def render(template: Path, values: dict[str, str]) -> str:
    """The template's text with `{{key}}` placeholders filled (unknown ones are left as written)."""
    try:
        text = template.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{template}: cannot read template: {getattr(error, 'strerror', None) or 'not UTF-8'}") from None
    text = _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)
    return text if text.endswith("\n") else text + "\n"


# --- names and write paths -----------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """NAME as a file-name fragment; anything that could address another place is refused."""
    name = raw.strip()
    if name.lower().endswith(".sql"):
        name = name[:-4]
    if not name:
        raise InputError("NAME is empty: give the migration a name, e.g. add_invoice_due_date")
    if "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name) or Path(name).is_absolute():
        raise InputError(f"NAME '{raw}' is a path: give a plain name; the file is always written in the write path")
    if ".." in name:
        raise InputError(f"NAME '{raw}' contains '..': give a plain name")
    if not _NAME.match(name):
        raise InputError(f"NAME '{raw}' may hold only letters, digits, '_', '-' and '.' (at most 100)")
    return name


def write_path(root: Path, configured: str, key: str) -> Path:
    """The configured directory, refused when a symbolic link makes it lead somewhere else."""
    expected = Path(os.path.normpath(root.resolve() / configured))
    actual = (root / configured).resolve()
    if actual != expected:
        raise InputError(f"{key} directory {configured} resolves to {actual} through a symbolic link: "
                         "refusing to write outside the write path")
    if actual.exists() and not actual.is_dir():
        raise InputError(f"{key} directory {configured} is not a directory")
    return actual


def _inside(target: Path, directory: Path) -> Path:
    """`target` (in `directory`), refused when it resolves outside it or already exists."""
    resolved = target.resolve()
    if resolved != directory and directory not in resolved.parents:
        raise InputError(f"{target} resolves to {resolved}, outside the write path {directory}: refusing to write")
    if os.path.lexists(target):
        raise InputError(f"{target} already exists: refusing to overwrite it")
    return target


# --- numbering -----------------------------------------------------------------------------------


def _is_timestamp(digits: str) -> bool:
    return len(digits) in (12, 14) and digits[:2] in ("19", "20") and 1 <= int(digits[4:6]) <= 12


def next_version(newest: str | None, now: datetime, default: str) -> str:
    """The version after `newest`: a UTC timestamp in the same shape when it is one, else the
    sequence number plus one with the same zero padding."""
    if newest is None:
        return default
    digits = re.sub(r"\D", "", newest)
    if _is_timestamp(digits):
        stamp = now.strftime("%Y%m%d%H%M%S")[: len(digits)]
        if int(stamp) <= int(digits):  # a clock behind the newest file: still sort after it
            stamp = str(int(digits) + 1).zfill(len(digits))
        poured = iter(stamp)
        return "".join(next(poured) if ch.isdigit() else ch for ch in newest)
    parts = re.split(r"([._-])", newest)
    parts[-1] = str(int(parts[-1]) + 1).zfill(len(parts[-1]))
    return "".join(parts)


def _newest(migrations: list[Migration], layout: str) -> tuple[Migration | None, str | None]:
    """The newest numbered migration and its version as spelled in its file or directory name."""
    numbered: list[tuple[tuple, Migration, str]] = []
    for migration in migrations:
        if migration.repeatable:
            continue
        version = migration.version
        if layout == "flyway":
            match = _FLYWAY_V.match(migration.up.name)
            version = match["version"] if match else version
        if _NUMERIC_VERSION.match(version):
            key = tuple(int(part) for part in re.split(r"[._-]", version))
            numbered.append((key, migration, version))
    if not numbered:
        return None, None
    _, migration, version = max(numbered, key=lambda item: item[0])
    return migration, version


def _separator(migration: Migration | None, version: str | None) -> str:
    """`_` or `-`: what follows the version in the newest migration's name."""
    if migration is None or version is None:
        return "_"
    up = migration.up
    stem = up.parent.name if up.name.lower() in ("up.sql", "migration.sql") else up.name
    rest = stem[len(version):] if stem.startswith(version) else ""
    return "-" if rest.startswith("-") else "_"


# --- new -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewOptions:
    name: str
    template: str  # feature | seed


@dataclass
class NewResult:
    files: list[Path]
    layout: str
    version: str
    template: Path
    warnings: list[str] = field(default_factory=list)


def run_new(options: NewOptions, config, now: datetime | None = None) -> NewResult:
    """Create the migration or seed file(s) for NAME from its template; return what was written."""
    if options.template not in TEMPLATES:
        raise InputError(f"unknown template '{options.template}' (choose from: {', '.join(TEMPLATES)})")
    name = clean_name(options.name)
    root = Path(config.root)
    key = "migrations" if options.template == "feature" else "seeds"
    directory = write_path(root, getattr(config, key), key)
    now = now or datetime.now(UTC)

    existing = sql_files(directory) if directory.is_dir() else []
    configured = config.layout if key == "migrations" else "auto"  # seeds follow their own directory
    layout = configured if configured != "auto" else (detect_layout(existing) if existing else "plain")
    migrations = discover(directory, layout) if existing else []
    newest, newest_version = _newest(migrations, layout)
    version = next_version(newest_version, now, first_version(layout, now))
    sep = _separator(newest, newest_version)

    template = find_template(options.template, root)
    values = {"name": name, "version": version, "template": options.template,
              "tenant_column": config.tenant_column, "tenant_setting": config.tenant_setting,
              "lock_timeout": config.lock_timeout}
    up = render(template, values)
    warnings = []
    if template_header(up) != options.template:
        warnings.append(f"{template} does not start with '-- migguard:template {options.template}': "
                        "lint reports files made from it (missing-template-header)")
    down = render(find_template("down", root), values)

    new_dir, files = _targets(directory, layout, migrations, newest, (version, sep, name), up, down)
    _write(directory, new_dir, files)
    return NewResult([path for path, _ in files], layout, version, template, warnings)


def first_version(layout: str, now: datetime) -> str:
    """The version of the first migration in `layout`."""
    return {"flyway": "1", "dbmate": now.strftime("%Y%m%d%H%M%S")}.get(layout, "0001")


def first_migration(directory: Path, layout: str, name: str, up: str, down: str,
                    now: datetime) -> tuple[Path | None, list[tuple[Path, str]]]:
    """(directory to create or None, [(file, text)]) of the first migration of an empty write path,
    named and numbered as `new` would (`migguard baseline`); write them with `write_files`."""
    return _targets(directory, layout, [], None, (first_version(layout, now), "_", clean_name(name)), up, down)


def write_files(directory: Path, new_dir: Path | None, files: list[tuple[Path, str]]) -> None:
    """Create the files exclusively inside the write path `directory` (see `_write`)."""
    _write(directory, new_dir, files)


def _targets(directory: Path, layout: str, migrations: list[Migration], newest: Migration | None,
             naming: tuple[str, str, str], up: str, down: str) -> tuple[Path | None, list[tuple[Path, str]]]:
    """(directory to create or None, [(file, text)]) for one new migration in `layout`."""
    version, sep, name = naming
    stem = f"{version}{sep}{name}"
    if layout == "flyway":
        files = [(directory / f"V{version}__{name}.sql", up)]
        if any(m.down is not None for m in migrations):  # the project keeps undo scripts
            files.append((directory / f"U{version}__{name}.sql", down))
        return None, files
    if layout == "dbmate":
        return None, [(directory / f"{stem}.sql", f"-- migrate:up\n{up}\n-- migrate:down\n{down}")]
    if layout == "updown":
        if newest is None or newest.up.name.lower() == "up.sql":  # diesel / lemmy: a directory each
            return directory / stem, [(directory / stem / "up.sql", up), (directory / stem / "down.sql", down)]
        return None, [(directory / f"{stem}.up.sql", up), (directory / f"{stem}.down.sql", down)]
    if newest is not None and newest.up.name == "migration.sql" and newest.up.parent != directory:  # prisma
        return directory / stem, [(directory / stem / "migration.sql", up)]
    return None, [(directory / f"{stem}.sql", up)]


def _write(directory: Path, new_dir: Path | None, files: list[tuple[Path, str]]) -> None:
    """Create the files (and their directory) exclusively: nothing existing is followed or replaced."""
    if new_dir is not None:
        _inside(new_dir, directory)
    for path, _ in files:
        _inside(path, directory)
    directory.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    try:
        if new_dir is not None:
            new_dir.mkdir()
            created.append(new_dir)
        for path, text in files:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            descriptor = os.open(path, flags, 0o644)
            created.append(path)
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except OSError as error:
        for path in reversed(created):  # leave nothing half-made
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        where = error.filename or directory
        if isinstance(error, FileExistsError):
            raise InputError(f"{where} already exists: refusing to overwrite it") from None
        raise InputError(f"cannot write {where}: {error.strerror}") from None

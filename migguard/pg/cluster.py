"""An ephemeral PostgreSQL cluster migguard starts itself, so a shadow needs no installed service.

Where the server comes from: the bundled server of the `pgserver` wheel (a default dependency)
or PostgreSQL binaries on the machine (PATH, Debian's /usr/lib/postgresql/*/bin, Homebrew),
whichever can create more extensions (the bundled one ships none of contrib), else a
`testcontainers` container when a Docker engine answers. For a production on a known major,
`choose_for` prefers that major wherever it comes from (SPEC section 5). The cluster lives in
a temporary directory, listens only on a Unix socket there, runs with durability off (it is
scratch space), and is removed on stop.

`initdb` refuses to run as root. As root, migguard runs the server as an unprivileged system
user (`postgres` when it exists, else `nobody`) and gives that user the directory it needs.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migguard.core.errors import DatabaseError

_SEARCH_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)
_SERVER_SETTINGS = (
    "fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=60",
    "shared_buffers=32MB", "max_locks_per_transaction=256", "log_min_messages=fatal",
)


@dataclass(frozen=True, slots=True)
class Binaries:
    """A PostgreSQL installation: where its programs are, its major version, where it came from."""

    bin_dir: Path
    major: int
    source: str

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def extensions(self) -> frozenset[str]:
        """The extensions this installation can create (its `extension/*.control` files)."""
        return _extensions(self.bin_dir)


def bundled_binaries() -> Binaries | None:
    """The server shipped in the pgserver wheel, if installed."""
    # Located without importing pgserver, whose import has side effects (runtime dirs, locks).
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    major = _major(bin_dir) if (bin_dir / "initdb").exists() else 0
    return Binaries(bin_dir, major, "bundled (pgserver)") if major else None


def local_binaries() -> list[Binaries]:
    """PostgreSQL installations found on this machine, newest first."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for pattern in _SEARCH_GLOBS:
        root = Path("/")
        candidates.extend(sorted(root.glob(pattern.lstrip("/")), reverse=True))
    found, seen = [], set()
    for directory in candidates:
        if directory in seen or not (directory / "initdb").exists() or not (directory / "pg_ctl").exists():
            continue
        seen.add(directory)
        major = _major(directory)
        if major:
            found.append(Binaries(directory, major, str(directory)))
    return sorted(found, key=lambda b: -b.major)


def available_binaries() -> list[Binaries]:
    bundled = bundled_binaries()
    return ([bundled] if bundled else []) + local_binaries()


@dataclass(frozen=True, slots=True)
class MajorMismatch:
    """The shadow runs another PostgreSQL major than production (SPEC section 5, step 2). `kind`
    says where the shadow came from, which decides the fix: "ephemeral" (no server of production's
    major here), "url" (PG_SHADOW_URL or --shadow), "kept" (`migguard shadow start`)."""

    production: int
    shadow: int
    kind: str
    source: str = ""

    @property
    def message(self) -> str:
        origin = "the bundled server" if self.source.startswith("bundled") else f"from {self.source}"
        where = {"ephemeral": f"no PostgreSQL {self.production} server is available here, so the shadow runs "
                              f"PostgreSQL {self.shadow}, {origin}",
                 "url": f"the shadow server (PG_SHADOW_URL) runs PostgreSQL {self.shadow}",
                 "kept": f"the shadow kept by `migguard shadow start` runs PostgreSQL {self.shadow}"}[self.kind]
        return (f"production runs PostgreSQL {self.production} but {where}: SQL that PostgreSQL deparses (view "
                "definitions, defaults, policies) can differ between majors, and so can what replays")

    @property
    def hint(self) -> str:
        return {"ephemeral": f"Install PostgreSQL {self.production}'s server package (or start a Docker engine), "
                             f"or set PG_SHADOW_URL to a PostgreSQL {self.production} server.",
                "url": f"Point PG_SHADOW_URL at a PostgreSQL {self.production} server.",
                "kept": f"Restart the kept shadow on production's major: `migguard shadow stop`, then "
                        f"`migguard shadow start` (PostgreSQL {self.production} when PG_PROD_URL is set)."}[self.kind]

    def line(self) -> str:
        """The one-line warning for stderr."""
        return f"{self.message}. {self.hint}"


@dataclass(frozen=True, slots=True)
class ShadowChoice:
    """Where an ephemeral shadow runs: `binaries`, else a container of `container_major`;
    `mismatch` when neither is of production's major."""

    binaries: Binaries | None
    container_major: int | None = None
    mismatch: MajorMismatch | None = None

    @property
    def major(self) -> int:
        return self.binaries.major if self.binaries else self.container_major or 0


def choose_for(production_major: int | None, options: list[Binaries],
               docker_answers: Callable[[], bool] = lambda: ContainerServer.available()) -> ShadowChoice:
    """The server for a shadow of production on `production_major` (SPEC section 5, step 2): an
    installation of that major (of several, the default one), else a container of it when a Docker
    engine answers, else the default installation with the mismatch. Without production (None):
    the default. `options` is `available_binaries()`; `docker_answers` is asked only when no
    installation fits (it may take seconds)."""
    if production_major is not None:
        same = [b for b in options if b.major == production_major]
        if same:
            return ShadowChoice(default_binaries(same))
    if options and production_major is None:
        return ShadowChoice(default_binaries(options))
    if docker_answers():
        return ShadowChoice(None, production_major or ContainerServer.DEFAULT_MAJOR)
    if not options:
        raise _no_server(production_major)
    fallback = default_binaries(options)
    return ShadowChoice(fallback, mismatch=MajorMismatch(production_major, fallback.major, "ephemeral",
                                                         fallback.source))


def _no_server(major: int | None) -> DatabaseError:
    wanted = f"PostgreSQL {major}" if major else "PostgreSQL"
    return DatabaseError(
        f"no {wanted} server binaries found (install the pgserver wheel, or PostgreSQL's server package), "
        "and PG_SHADOW_URL is not set"
    )


def default_binaries(options: list[Binaries]) -> Binaries:
    """Of several installations, the one that can create the most extensions; among equals, the
    first (the bundled server). Histories stop at their first CREATE EXTENSION the server lacks:
    of the corpus's 9 standalone histories, 7 replay whole on PostgreSQL 15 with contrib, 3 on the
    bundled 16, which has none (bench/extensions.py)."""
    return max(options, key=lambda b: len(b.extensions))  # max keeps the first of equals


def choose_binaries(major: int | None = None) -> Binaries:
    """The default installation (`default_binaries`); `major` asks for a specific version."""
    options = available_binaries()
    if major is not None:
        options = [b for b in options if b.major == major]
    if not options:
        raise _no_server(major)
    return default_binaries(options)


@functools.cache
def _major(bin_dir: Path) -> int:
    """The installation's major version, asked of its `postgres` once per process (a plan looks
    for binaries several times: each `postgres --version` is a process start)."""
    try:
        output = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True,
                                timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(match.group(1)) if match else 0


@functools.cache
def _extensions(bin_dir: Path) -> frozenset[str]:
    """Names of the `.control` files in the installation's share directory (`pg_config --sharedir`:
    Debian keeps it apart from the binaries, under /usr/share/postgresql/N)."""
    directories = [bin_dir.parent / "share" / "postgresql", bin_dir.parent / "share"]
    try:
        shared = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True,
                                timeout=20, check=False).stdout.strip()
        if shared:
            directories.insert(0, Path(shared))
    except (OSError, subprocess.TimeoutExpired):
        pass
    for directory in directories:
        controls = list((directory / "extension").glob("*.control"))
        if controls:
            return frozenset(path.stem for path in controls)
    return frozenset()


def _service_user() -> str | None:
    """The unprivileged user to run the server as when we are root; None when not root."""
    if platform.system() == "Windows" or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise DatabaseError("running as root and no unprivileged user (postgres, nobody) exists to run PostgreSQL")


def _make_traversable(path: Path) -> None:
    """Let other users traverse (not list) every directory above `path`: as root, the server's
    user must reach the binaries, which may live in a virtualenv under a private home."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


class Cluster:
    """One ephemeral PostgreSQL cluster: start, connection URLs, stop (which deletes it)."""

    def __init__(self, binaries: Binaries, directory: Path | None = None, *, keep: bool = False) -> None:
        self.binaries = binaries
        self.owns_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="migguard-pg-"))
        self.data = self.directory / "data"
        self.socket_dir = self.directory
        self.port = 5432
        self.user = _service_user()
        self.keep = keep

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Cluster:
        if self.user:
            _make_traversable(self.binaries.bin_dir)
            self.directory.chmod(0o755)
            shutil.chown(self.directory, self.user)
        if not (self.data / "PG_VERSION").exists():
            self._run([self.binaries.program("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")
        options = f"-k {self.socket_dir} -c listen_addresses='' -p {self.port} " + " ".join(
            f"-c {setting}" for setting in _SERVER_SETTINGS
        )
        self._run([self.binaries.program("pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "server.log"),
                   "-o", options, "-w", "-t", "60", "start"], "pg_ctl start")
        return self

    def stop(self, remove: bool | None = None) -> None:
        """Stop the server; remove its directory when we created it (or when `remove` says so)."""
        if (self.data / "postmaster.pid").exists():
            self._run([self.binaries.program("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                      "pg_ctl stop", check=False)
        if remove if remove is not None else (self.owns_directory and not self.keep):
            shutil.rmtree(self.directory, ignore_errors=True)

    def running(self) -> bool:
        result = subprocess.run([self.binaries.program("pg_ctl"), "-D", str(self.data), "status"],
                                capture_output=True, text=True, check=False, user=self.user)
        return result.returncode == 0

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- connections ----------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A libpq URL over the cluster's Unix socket (no password: trust auth on a private socket)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    # --- internals ----------------------------------------------------------------------------

    def _run(self, argv: list[str], what: str, check: bool = True) -> None:
        try:
            result = subprocess.run(argv, capture_output=True, text=True, check=False, user=self.user,
                                    cwd=self.directory, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DatabaseError(f"{what} failed: {error}") from None
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            log = self.directory / "server.log"
            if log.exists():
                detail += log.read_text(errors="replace").strip().splitlines()[-3:]
            raise DatabaseError(f"{what} failed: {' | '.join(detail[-4:])}")


def wait_until_accepting(url: str, timeout: float = 30.0) -> None:
    """Poll until the server accepts connections (after a container start)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise DatabaseError("the PostgreSQL container did not accept connections in time") from None
            time.sleep(0.3)


class ContainerServer:
    """The last resort when no server binaries exist: a PostgreSQL container through
    testcontainers (an optional dependency), when a Docker engine answers."""

    DEFAULT_MAJOR = 16

    def __init__(self, major: int = DEFAULT_MAJOR) -> None:
        self.major = major
        self._container = None

    @staticmethod
    def available() -> bool:
        try:
            import docker
            import testcontainers.postgres  # noqa: F401  (present: the fallback can run)
        except ImportError:
            return False
        try:
            docker.from_env(timeout=3).ping()
        except Exception:  # any failure to reach the engine means: no Docker here
            return False
        return True

    def start(self) -> str:
        from testcontainers.postgres import PostgresContainer

        self._container = PostgresContainer(f"postgres:{self.major}-alpine", driver=None)
        self._container.start()
        url = self._container.get_connection_url()
        wait_until_accepting(url)
        return url

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None

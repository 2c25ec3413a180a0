"""pg_dump / pg_restore, run as subprocesses: the right version for the server, the password in
the environment (never on the command line, where `ps` shows it), errors redacted.

A tool never outlives migguard: it runs in its own process group, which is killed when migguard
leaves the call for any reason (an error, Ctrl-C, SIGTERM turned into an exception by the caller),
and on Linux the kernel kills it when migguard itself is killed (PR_SET_PDEATHSIG). Files it
creates are private (umask 077)."""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from psycopg.conninfo import make_conninfo

from migguard.core.dsn import parse_url
from migguard.core.errors import DatabaseError
from migguard.core.redact import redact_text
from migguard.pg.cluster import Binaries, available_binaries
from migguard.pg.connect import connect


def server_major(url: str) -> int:
    with connect(url) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def client_for(major: int) -> Binaries:
    """pg_dump must be at least the server's version: the exact major first, else the nearest newer."""
    options = [b for b in available_binaries() if b.major >= major and (b.bin_dir / "pg_dump").exists()]
    if not options:
        raise DatabaseError(f"no pg_dump for PostgreSQL {major} or newer was found (install the PostgreSQL client "
                            f"package of version {major})")
    return sorted(options, key=lambda b: (b.major != major, b.major))[0]


def _split_secret(url: str) -> tuple[str, dict[str, str]]:
    """The conninfo without its password, and an environment that carries it."""
    params = parse_url(url)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    return make_conninfo(**params), env


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _child_setup(parent: int) -> None:
    """In the tool's process, before exec: private files, and death with migguard on Linux."""
    os.umask(0o077)
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # migguard died before the request took effect
            os._exit(1)


def run_tool(binaries: Binaries, program: str, args: list[str], url: str | None, what: str,
             timeout: float = 3600) -> subprocess.CompletedProcess[bytes]:
    """Run a PostgreSQL client program; a failure raises `tool_error`: its cause as the message,
    all of its stderr as the detail (printed under the error line), redacted."""
    argv = [binaries.program(program), *args]
    env = dict(os.environ)
    if url is not None:
        conninfo, env = _split_secret(url)
        argv += ["--dbname", conninfo]
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, process_group=0,
                                   # preexec_fn runs Python between fork and exec (umask, prctl): safe while no
                                   # other thread holds a lock, and migguard starts its tools with none running
                                   preexec_fn=functools.partial(_child_setup, os.getpid()))  # noqa: PLW1509
    except OSError as error:
        raise DatabaseError(f"{what} failed: {redact_text(str(error))}") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DatabaseError(f"{what} failed: no answer within {timeout:.0f} s") from None
    finally:
        if process.returncode is None:  # leaving early (timeout, Ctrl-C, a signal): the tool goes too
            _kill_group(process)
    if process.returncode != 0:
        raise tool_error(what, stderr, process.returncode)
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def tool_error(what: str, stderr: bytes, returncode: int) -> DatabaseError:
    """A failed tool's error: the message names the cause (the server's ERROR, else the tool's
    `error:` line, else its last line), the detail is its whole stderr, both redacted. pg_dump's
    last line is often only "Query was: COPY …", while the reason (say "query would be affected by
    row-level security policy") and PostgreSQL's HINT come before it."""
    text = stderr.decode("utf-8", "replace").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    cause = next((line.split("ERROR:", 1)[1].strip() for line in lines if "ERROR:" in line), None)
    cause = cause or next((line for line in lines if " error: " in line or line.startswith("error:")), None)
    cause = cause or (lines[-1] if lines else f"exit {returncode}")
    return DatabaseError(f"{what} failed: {redact_text(cause)}", detail=text if text and text != cause else None)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def pg_dump_schema(url: str, options: Sequence[str] = ()) -> str:
    """`pg_dump --schema-only` of the database, as SQL that psycopg can run (psql meta-commands removed).

    `options`: more pg_dump flags (`migguard baseline` drops ownership and excludes migguard's schema)."""
    binaries = client_for(server_major(url))
    output = run_tool(binaries, "pg_dump", ["--schema-only", *options],
                      url, "pg_dump --schema-only").stdout.decode("utf-8")
    # Recent pg_dump releases wrap the script in psql's \restrict … \unrestrict; psycopg runs plain SQL.
    return "\n".join(line for line in output.splitlines() if not line.startswith("\\"))


def pg_dump_custom(url: str, output: Path, tables: list[str] | None = None) -> Path:
    """`pg_dump -Fc` of the database (or only `tables`) into `output`."""
    binaries = client_for(server_major(url))
    args = ["--format=custom", "--file", str(output)]
    for table in tables or ():
        args += ["--table", table]
    run_tool(binaries, "pg_dump", args, url, "pg_dump")
    return output


def pg_restore_list(archive: Path, major: int | None = None) -> str:
    """`pg_restore --list`: proves the archive is readable; returns its table of contents."""
    options = [b for b in available_binaries() if (b.bin_dir / "pg_restore").exists()]
    if major is not None:
        options = [b for b in options if b.major >= major] or options
    if not options:
        raise DatabaseError("no pg_restore was found")
    return run_tool(options[0], "pg_restore", ["--list", str(archive)], None, "pg_restore --list").stdout.decode()



"""Run the command line in this process: `run_cli(argv, cwd=, env=, stdin=)` → Result.

A new Python process per call costs about half a second before migguard does anything (the
interpreter, typer, pydantic, sqlglot, psycopg imported again); the suite makes hundreds of calls.
`run_cli` calls `migguard.cli.app.main(argv)` — what `python -m migguard` and the console script
call — with what a process would have of its own set for the call and restored afterwards:

- the working directory and the environment (`env`, when given, is the whole environment, as
  subprocess's `env=` is; None inherits this process's);
- sys.stdin (the given bytes or text, else empty), sys.stdout and sys.stderr: byte buffers behind
  UTF-8 text streams, so `sys.stdout.buffer` works as in a process, and sys.argv;
- warnings are shown on the captured stderr with Python's default filters, and log records reach
  it through logging's last-resort handler, as in a process started without options (pytest's own
  warning and log capture would otherwise swallow them);
- SystemExit becomes the exit code; any other exception escaping main() (only `--debug` lets one
  out) is printed as a traceback with exit code 1, as the interpreter does.

main() starts with `reset_run_state()`, so nothing one call leaves in module state (remembered
secrets, the env file's values) reaches the next; run_cli resets it again afterwards, for the
tests that follow in this process. Tests that need a real process (signals, a killed apply, the
console script, `python -m migguard`, import-time checks) keep using subprocess.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from migguard.cli.app import main, reset_run_state


@dataclass(frozen=True)
class Result:
    """What a process running `migguard *argv` would have given: exit code and both streams."""

    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""
    stderr_bytes: bytes = b""

    @property
    def returncode(self) -> int:
        """subprocess.CompletedProcess's name for it, so ported tests read the same."""
        return self.exit_code

    @property
    def code(self) -> int:
        return self.exit_code


def _stream(buffer: io.BytesIO) -> io.TextIOWrapper:
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="strict", newline="\n", write_through=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _default_warning_filters() -> None:
    """The filters of an interpreter started without -W or PYTHONWARNINGS (a release build)."""
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


# A run swaps the process's cwd, environment and standard streams: runs from several threads of one
# test take turns (unserialised, one run's environment vanished under another's pydantic import).
_ONE_RUN_AT_A_TIME = threading.Lock()


def run_cli(argv: list[str] | tuple[str, ...], *, cwd: str | Path | None = None, env: dict[str, str] | None = None,
            stdin: bytes | str | None = None) -> Result:
    """Run `migguard *argv` in this process and return its exit code, stdout and stderr."""
    with _ONE_RUN_AT_A_TIME:
        return _run_cli(argv, cwd=cwd, env=env, stdin=stdin)


def _run_cli(argv: list[str] | tuple[str, ...], *, cwd: str | Path | None, env: dict[str, str] | None,
             stdin: bytes | str | None) -> Result:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else (stdin or b"")
    out_buffer, err_buffer = io.BytesIO(), io.BytesIO()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_argv, saved_cwd, saved_env = sys.argv, os.getcwd(), dict(os.environ)
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    streams = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), _stream(out_buffer), _stream(err_buffer)
    sys.stdin, sys.stdout, sys.stderr = streams  # kept in `streams`: a collected wrapper closes its buffer
    sys.argv = ["migguard", *argv]
    root.handlers = []
    gc.freeze()  # what lived before the call is not scanned by the collection after it (see below)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        with warnings.catch_warnings():
            _default_warning_filters()
            warnings.showwarning = _show_warning
            try:
                main(list(argv))
                exit_code = 0  # main() always exits; returning is what a process ending normally does
            except SystemExit as done:
                exit_code = _exit_code(done)
            except BaseException:  # noqa: BLE001 - the interpreter prints any escaping exception and exits 1
                traceback.print_exc()
                exit_code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        root.handlers = saved_handlers
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        reset_run_state()
        gc.collect()  # connections a process would have closed at exit (advisory locks, open transactions)
        gc.unfreeze()
    out, err = out_buffer.getvalue(), err_buffer.getvalue()
    del streams
    return Result(exit_code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), out, err)


def _exit_code(done: SystemExit) -> int:
    """The process's exit status for sys.exit(code): None is 0, an int itself, anything else is
    printed on stderr and gives 1."""
    if done.code is None:
        return 0
    if isinstance(done.code, int):
        return done.code
    print(done.code, file=sys.stderr)
    return 1

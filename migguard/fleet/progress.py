"""The live progress of a rollout on stderr, for the person watching it.

On a terminal one status line is redrawn in place (wave, done / failed / remaining, elapsed);
anywhere else (a CI log, a pipe) each event is one plain line, so the log reads top to bottom.
Under --quiet nothing is written. Only the main thread calls it (the rollout reports results as
the workers finish), so no line is ever interleaved with another.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from migguard.core.identifiers import comment_safe


class RolloutProgress:
    def __init__(self, stream: TextIO | None, total: int, *, quiet: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = None if quiet else stream
        self.tty = bool(self.stream is not None and getattr(self.stream, "isatty", lambda: False)())
        self.total = total
        self.done = 0
        self.failed = 0
        self.group = ""
        self._clock = clock
        self._started = clock()
        self._drawn = False

    def elapsed(self) -> str:
        seconds = int(self._clock() - self._started)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def status(self) -> str:
        remaining = self.total - self.done - self.failed
        return (f"[{self.group or '-'}] {self.done} done, {self.failed} failed, {remaining} remaining "
                f"of {self.total}, {self.elapsed()} elapsed")

    def wave(self, group: str, size: int) -> None:
        self.group = group
        self._line(f"migguard: fleet: {group}: {size} target(s)")

    def result(self, name: str, status: str, failed: bool, message: str = "") -> None:
        if failed:
            self.failed += 1
        else:
            self.done += 1
        detail = f": {message.splitlines()[0]}" if message else ""
        self._line(comment_safe(f"migguard: fleet: {name}: {status}{detail}"))

    def note(self, line: str) -> None:
        self._line(comment_safe(line))

    def finish(self) -> None:
        if self.stream is not None and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _line(self, text: str) -> None:
        if self.stream is None:
            return
        if self.tty:  # the event above, then the status line redrawn below it
            self.stream.write(f"\r\x1b[2K{text}\n{self.status()}")
            self._drawn = True
        else:
            self.stream.write(f"{text} ({self.status()})\n")
        self.stream.flush()

"""The rollout state file, `<plan_dir>/fleet-rollout.json`: which wave applied what, for
`rollback --fleet --last-wave`.

It is a convenience, not the truth: each target's own history table says what is applied, and a
re-run of `apply --fleet` reads those, not this file. It records per target the group, the last
result, the version that was applied before the rollout (`before`) and the versions the rollout
applied, and the groups in the order they applied something. Written whole to a temporary name
and renamed, so a killed migguard leaves the previous file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from migguard.core.errors import InputError

FILE_NAME = "fleet-rollout.json"


@dataclass
class TargetState:
    group: str
    status: str
    before: str | None = None
    applied: list[str] = field(default_factory=list)
    at: str = ""


@dataclass
class RolloutState:
    path: Path
    targets: dict[str, TargetState] = field(default_factory=dict)
    waves: list[str] = field(default_factory=list)  # groups in the order they applied something

    @classmethod
    def load(cls, plan_dir: Path) -> RolloutState:
        path = plan_dir / FILE_NAME
        if not path.is_file():
            return cls(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            targets = {name: TargetState(**entry) for name, entry in document["targets"].items()}
            return cls(path, targets, list(document["waves"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"cannot read the rollout state {path}: {getattr(error, 'strerror', None) or error}; "
                             "remove it (each target's history table stays the truth)") from None

    def record(self, name: str, group: str, status: str, before: str | None, versions: list[str],
               failed: bool) -> None:
        """One target's result. A run that applied something replaces what an earlier rollout applied,
        unless the earlier run of this wave stopped part way ("partial"): then the two add up, so a
        rollback undoes the whole wave. A run that applied nothing leaves a partial entry as it is."""
        previous = self.targets.get(name)
        resumed = previous is not None and previous.status == "partial" and previous.group == group
        if versions:
            if resumed:
                versions = [*previous.applied, *[v for v in versions if v not in previous.applied]]
                before = previous.before
            self.targets[name] = TargetState(group, "partial" if failed else "applied", before, versions, _now())
            if group in self.waves:
                self.waves.remove(group)
            self.waves.append(group)
        elif resumed:
            previous.at = _now()
        elif status != "up-to-date" or previous is None:
            self.targets[name] = TargetState(group, status, at=_now())

    def rolled_back(self, name: str) -> None:
        entry = self.targets.get(name)
        if entry is None:
            return
        entry.status, entry.applied, entry.at = "rolled-back", [], _now()
        self.waves = [g for g in self.waves if any(t.group == g and t.applied for t in self.targets.values())]

    def last_wave(self) -> tuple[str, list[str]] | None:
        """The group that applied last and its targets that still hold what it applied."""
        for group in reversed(self.waves):
            names = [name for name, entry in self.targets.items() if entry.group == group and entry.applied]
            if names:
                return group, names
        return None

    def save(self) -> None:
        document = {"targets": {name: asdict(entry) for name, entry in sorted(self.targets.items())},
                    "waves": self.waves}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as error:
            raise InputError(f"cannot write the rollout state {self.path}: {error.strerror}") from None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

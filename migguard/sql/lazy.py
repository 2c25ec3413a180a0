"""sqlglot's `exp`, imported on first use: `from migguard.sql.lazy import exp` instead of `from sqlglot import exp`.

Importing sqlglot costs a cold `migguard lint` about 75 ms, yet a migration of statements PostgreSQL's
own tree answers for (CREATE INDEX, DROP, plain ALTER TABLE actions, SET) never needs its typed tree.
The rules and facts name sqlglot's classes everywhere (`isinstance(tree, exp.Create)`), always inside
functions that only run once some statement was parsed with sqlglot, so sqlglot loads when the first
class is asked for. tests/lint/test_fast_start.py checks which files import it.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands for a module until an attribute is read: then imports it, and keeps each attribute read
    on itself, so later reads cost what reading a module's attribute costs."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):  # copy, pickle and inspect probe for these: do not import for them
            raise AttributeError(attribute)
        value = getattr(self.module(), attribute)
        setattr(self, attribute, value)
        return value

    def module(self) -> ModuleType:
        return importlib.import_module(self._name)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


exp = LazyModule("sqlglot.expressions")

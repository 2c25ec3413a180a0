"""sqlglot's `exp`, imported on first use: `from migguard.sql.lazy import exp` instead of `from sqlglot import exp`.

Importing sqlglot costs a cold `migguard lint` about 75 ms, yet a migration of statements PostgreSQL's
own tree answers for (CREATE INDEX, DROP, plain ALTER TABLE actions, SET) never needs its typed tree.
The rules and facts name sqlglot's classes everywhere (`isinstance(tree, exp.Create)`), always inside
functions, so sqlglot loads when the first class is asked for. A statement PostgreSQL's tree answered
for has no typed tree (`Statement.ast` is None), so checks test for None before naming a class:
`tree is not None and isinstance(tree, exp.Create)`. tests/lint/test_fast_start.py checks which
files import sqlglot.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """A stand-in for module `name`, imported when an attribute is first read. The stand-in then takes a
    copy of the module's names and drops its own __getattr__: CPython speeds up attribute reads only on
    a module without one (with the hook, each `exp.Create` cost 3x as much, and the rules read millions)."""
    stand_in = ModuleType(f"{__name__}:{name}")

    def __getattr__(attribute: str):  # noqa: N807 (PEP 562: called only until the module is loaded)
        if attribute.startswith("__"):  # copy, pickle and inspect probe for these: do not import for them
            raise AttributeError(attribute)
        module = importlib.import_module(name)
        if "__getattr__" in vars(stand_in):
            del stand_in.__getattr__
            vars(stand_in).update((key, value) for key, value in vars(module).items() if not key.startswith("__"))
        return getattr(module, attribute)

    stand_in.__getattr__ = __getattr__
    return stand_in


exp = lazy_module("sqlglot.expressions")

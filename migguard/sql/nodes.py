"""Reading PostgreSQL's parse tree as libpg_query's JSON gives it (`Statement.node`).

A node is a one-key dict, `{"UpdateStmt": {…}}`; fields typed as one node kind hold its body directly.
These helpers answer structural questions from the tree the file's one parse already built, so a
statement that cannot matter to a rule is never handed to a second parser.
"""

from __future__ import annotations

from collections.abc import Iterator


def find(tree: dict | list | None, kind: str) -> Iterator[dict]:
    """The bodies of every `kind` node anywhere in `tree` (the tree itself included)."""
    pending: list = [tree] if tree is not None else []
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found = item.get(kind)
            if isinstance(found, dict):
                yield found
            pending.extend(value for value in item.values() if isinstance(value, dict | list))
        elif isinstance(item, list):
            pending.extend(value for value in item if isinstance(value, dict | list))


def contains(tree: dict | list | None, kind: str) -> bool:
    """Does a `kind` node occur anywhere in `tree`?"""
    return next(find(tree, kind), None) is not None

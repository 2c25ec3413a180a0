"""Which objects differ between two schema models, and which of their fields.

Objects are compared by `_Model.differs`: pydantic's equality, which for equal objects (the common
case) compares their field dicts and serialises nothing; only a pair found unequal is serialised, to
compare the fields that count (not a column's position). deepdiff then runs only on the pairs
that differ, on the innermost object a change names (a column, a constraint, a table's own
fields), to say what changed: "type integer → bigint; default 0 → none".
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff

from migguard.core.identifiers import object_key
from migguard.schema.model import SchemaModel, SchemaObject, Table, View

CATEGORIES = ("schemas", "schema_grants", "extensions", "tables", "views", "sequences", "functions", "enums", "domains",
              "composites", "statistics", "collations", "rules")
_MISSING = object()
_MEMBERS = ("columns", "constraints", "indexes", "policies", "triggers")
_LONGEST = 60  # a longer value (a function body, a view definition) is named as changed, not printed

# The fields a change of each kind is about; a kind not listed is about every field that differs.
_FIELDS = {
    "alter column type": ("type", "collation"), "alter column default": ("default",), "drop column default": ("default",),
    "set not null": ("nullable",), "drop not null": ("nullable",), "alter column identity": ("identity", "identity_sequence"),
    "recreate generated column": ("generated",), "comment on column": ("comment",),
    "comment on table": ("comment",), "comment on index": ("comment",), "comment on constraint": ("comment",),
    "enable row level security": ("rls_enabled",), "disable row level security": ("rls_enabled",),
    "force row level security": ("rls_forced",), "no force row level security": ("rls_forced",),
    "alter table owner": ("owner",), "grant": ("grants",), "revoke": ("grants",), "grant option": ("grant_options",),
    "revoke option": ("grant_options",),
    "attach partition": ("partition_of", "partition_bound"), "detach partition": ("partition_of", "partition_bound"),
    "alter trigger state": ("enabled",), "alter domain default": ("default",),
    "alter domain not null": ("not_null",), "add enum value": ("values",),
    "alter sequence": ("data_type", "start", "increment", "minimum", "maximum", "cache", "cycle"),
    "alter sequence owner": ("owned_by",), "alter schema owner": ("owner",),
    "update extension": ("version",), "set unlogged": ("persistence",), "set logged": ("persistence",),
    "alter table options": ("options",), "alter column statistics": ("statistics",),
    "alter replica identity": ("replica_identity", "replica_identity_index"),
    "inherit": ("inherits",), "no inherit": ("inherits",), "comment on type": ("comment",),
    "alter statistics target": ("target",), "comment on statistics": ("comment",),
    "comment on collation": ("comment",),
}


def differing(before: SchemaModel, after: SchemaModel) -> dict[str, set[str]]:
    """Category → keys of the objects that are on one side only or differ (`_Model.differs`)."""
    found: dict[str, set[str]] = {}
    for category in CATEGORIES:
        old, new = getattr(before, category), getattr(after, category)
        names = {name for name in old.keys() | new.keys() if _differs(old.get(name, _MISSING), new.get(name, _MISSING))}
        if names:
            found[category] = names
    return found


def _differs(old: Any, new: Any) -> bool:
    if old is new:  # one object in both models (an incrementally read model shares what did not change)
        return False
    if isinstance(old, SchemaObject) and isinstance(new, SchemaObject):
        return old.differs(new)
    return old != new  # a schema's owner, its grants; or an object on one side only


def field_changes(old: Any, new: Any) -> list[tuple[tuple, str]]:
    """(path, "field old → new") for each field that differs between two versions of one object.

    deepdiff finds the differing paths inside fields that hold lists or dicts; each is cut to the
    field (and the key, for a dict field such as grants) and printed with its whole value on each
    side. A field of a plain value (a type, a default, a flag) that differs is its own path: there
    is nothing inside it for deepdiff to find."""
    a, b = _fields(old), _fields(new)
    if a == b:
        return []
    left, right = a, b
    paths: dict[tuple, None] = {}
    if isinstance(a, dict) and isinstance(b, dict):  # deepdiff walks only the fields that differ
        keys = [k for k in (*a, *(k for k in b if k not in a)) if a.get(k, _MISSING) != b.get(k, _MISSING)]
        nested = [k for k in keys if isinstance(a.get(k), _CONTAINERS) or isinstance(b.get(k), _CONTAINERS)]
        paths.update(((k,), None) for k in keys if k not in nested)
        left, right = {k: a[k] for k in nested if k in a}, {k: b[k] for k in nested if k in b}
    if left or right or not paths:
        for report in DeepDiff(left, right, view="tree", ignore_order=False, threshold_to_diff_deeper=0).values():
            for level in report:
                paths[_field_path(level.path(output_format="list"), a, b)] = None
    order = {field: i for i, field in enumerate([*a, *b] if isinstance(a, dict) and isinstance(b, dict) else [])}
    out = []
    for path in sorted(paths, key=lambda p: (order.get(p[0], -1) if p else -1, [str(part) for part in p])):
        label = ".".join(str(part) for part in path) or "value"
        before, after = _at(a, path), _at(b, path)
        if max(len(_show(before)), len(_show(after))) > _LONGEST or "\n" in _show(before) + _show(after):
            out.append((path or ("value",), f"{label} changed"))
        else:
            out.append((path or ("value",), f"{label} {_show(before)} → {_show(after)}"))
    return out


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _fields(value: Any) -> Any:
    """What deepdiff compares: the object's own fields; a table's or view's members are changes of their own."""
    if isinstance(value, (Table, View)):
        return value.compared_fields(without=frozenset(_MEMBERS))
    if isinstance(value, SchemaObject):
        return value.compared_fields()
    return {"owner": value} if isinstance(value, (str, type(None))) else value  # a schema: its owner


def _field_path(path: list, a: Any, b: Any) -> tuple:
    """The leading part of a deepdiff path that names dict keys: a field, or a field and a key."""
    kept, left, right = [], a, b
    for part in path:
        if not (isinstance(left, dict) or isinstance(right, dict)):
            break
        kept.append(part)
        left = left.get(part) if isinstance(left, dict) else None
        right = right.get(part) if isinstance(right, dict) else None
    return tuple(kept)


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_show(item) for item in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value).lower() if isinstance(value, bool) else str(value)


class Explainer:
    """Field-level details of changes: each change is matched to the pair of objects it names
    (by its path), deepdiff runs once per pair, and the change keeps the fields its kind is about."""

    def __init__(self, before: SchemaModel, after: SchemaModel) -> None:
        self.before, self.after = before, after
        self._cache: dict[tuple[int, int], list[tuple[tuple, str]]] = {}
        self._indexes: dict[tuple[str, ...], tuple[Any, Any]] | None = None
        self._functions: dict[tuple[str, ...], str] | None = None

    def details(self, kind: str, path: tuple[str, ...], name: str) -> tuple[str, ...]:
        pair = self._pair(path, name)
        if pair is None or pair[0] is None or pair[1] is None:
            return ()  # created or dropped: the kind says all
        key = (id(pair[0]), id(pair[1]))
        if key not in self._cache:
            self._cache[key] = field_changes(*pair)
        wanted = _FIELDS.get(kind)
        if kind in ("grant", "revoke"):  # one change per role: "public.t to reader" is about grants.reader
            return tuple(text for path, text in self._cache[key] if path[0] == "grants" and len(path) > 1
                         and name.endswith((f" to {path[1]}", f" from {path[1]}")))
        return tuple(text for path, text in self._cache[key] if wanted is None or path[0] in wanted)

    def _pair(self, path: tuple[str, ...], name: str) -> tuple[Any, Any] | None:
        before, after = self.before, self.after
        if len(path) == 1:
            for category in ("schemas", "extensions"):
                old = getattr(before, category).get(path[0], _MISSING)
                new = getattr(after, category).get(path[0], _MISSING)
                if old is not _MISSING or new is not _MISSING:
                    return (None if old is _MISSING else old, None if new is _MISSING else new)
            return None
        if len(path) == 3:
            parent = object_key(path[0], path[1])
            old_table, new_table = before.tables.get(parent), after.tables.get(parent)
            if old_table is not None and new_table is not None:
                for member in ("columns", "constraints", "policies", "triggers"):
                    old, new = getattr(old_table, member).get(path[2]), getattr(new_table, member).get(path[2])
                    if old is not None or new is not None:
                        return old, new
            rule = object_key(*path)
            if rule in before.rules or rule in after.rules:
                return before.rules.get(rule), after.rules.get(rule)
            for category in ("enums", "domains", "composites"):  # an enum value, a domain constraint: the type
                if parent in getattr(before, category) or parent in getattr(after, category):
                    return getattr(before, category).get(parent), getattr(after, category).get(parent)
            return None
        function = self._function_keys().get(path)
        if function is not None:
            return before.functions.get(function), after.functions.get(function)
        key = object_key(*path)
        for category in ("tables", "views", "sequences", "enums", "domains", "composites", "statistics",
                         "collations"):
            if key in getattr(before, category) or key in getattr(after, category):
                return getattr(before, category).get(key), getattr(after, category).get(key)
        return self._index_pairs().get(tuple(path))

    def _function_keys(self) -> dict[tuple[str, ...], str]:
        """A function change's path (schema, "name(arguments)") → the function's key (its signature)."""
        if self._functions is None:
            self._functions = {(f.schema_name, f"{f.name}({f.arguments})"): key
                               for model in (self.before, self.after) for key, f in model.functions.items()}
        return self._functions

    def _index_pairs(self) -> dict[tuple[str, ...], tuple[Any, Any]]:
        """An index change's path (schema, index) → (before, after) index: the path names no table."""
        if self._indexes is None:
            self._indexes = {}
            for side, model in enumerate((self.before, self.after)):
                for relation in (*model.tables.values(), *model.views.values()):
                    for index_name, index in relation.indexes.items():
                        key = (relation.schema_name, index_name)
                        pair = self._indexes.get(key, (None, None))
                        self._indexes[key] = (index, pair[1]) if side == 0 else (pair[0], index)
        return self._indexes

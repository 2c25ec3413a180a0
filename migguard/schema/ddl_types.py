"""SQL for composite types (CREATE TYPE … AS (…)): create, drop, and attribute changes in place.

Attributes are added, dropped and retyped with ALTER TYPE (CASCADE is never used: a table column
of the type makes PostgreSQL refuse, which the plan then reports). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from migguard.core.identifiers import quote_ident, quote_literal, quote_qualified
from migguard.schema.model import CompositeType


@dataclass(frozen=True)
class TypeStep:
    kind: str
    member: str | None  # the attribute a step is about; None: the type itself
    forward: str
    reverse: str
    stage: str  # "create" | "alter" | "drop"
    destructive: bool = False


def create_sql(composite: CompositeType) -> str:
    name = quote_qualified(composite.schema_name, composite.name)
    attributes = ", ".join(f"{quote_ident(a)} {t}" for a, t in composite.attributes)  # types as format_type printed
    text = f"CREATE TYPE {name} AS ({attributes});"
    if composite.comment:
        text += f"\nCOMMENT ON TYPE {name} IS {quote_literal(composite.comment)};"
    return text


def composite_steps(old: CompositeType | None, new: CompositeType | None) -> list[TypeStep]:
    """Steps that turn `old` into `new` (None: the type does not exist on that side)."""
    name = quote_qualified((old or new).schema_name, (old or new).name)
    drop = f"DROP TYPE {name};"
    if old is None:
        return [TypeStep("create type", None, create_sql(new), drop, "create")]
    if new is None:
        return [TypeStep("drop type", None, drop, create_sql(old), "drop", destructive=True)]
    steps: list[TypeStep] = []
    target = f"ALTER TYPE {name}"
    before, after = dict(old.attributes), dict(new.attributes)
    for attribute, type_ in old.attributes:
        if attribute not in after:
            steps.append(TypeStep("drop attribute", attribute, f"{target} DROP ATTRIBUTE {quote_ident(attribute)};",
                                  f"{target} ADD ATTRIBUTE {quote_ident(attribute)} {type_};", "alter",
                                  destructive=True))
    for attribute, type_ in new.attributes:
        if attribute not in before:
            steps.append(TypeStep("add attribute", attribute,
                                  f"{target} ADD ATTRIBUTE {quote_ident(attribute)} {type_};",
                                  f"{target} DROP ATTRIBUTE {quote_ident(attribute)};", "alter"))
        elif before[attribute] != type_:
            alter = f"{target} ALTER ATTRIBUTE {quote_ident(attribute)} SET DATA TYPE"
            steps.append(TypeStep("alter attribute type", attribute, f"{alter} {type_};",
                                  f"{alter} {before[attribute]};", "alter"))
    if old.comment != new.comment:
        def comment(text: str | None) -> str:
            return f"COMMENT ON TYPE {name} IS {'NULL' if text is None else quote_literal(text)};"
        steps.append(TypeStep("comment on type", None, comment(new.comment), comment(old.comment), "alter"))
    return steps

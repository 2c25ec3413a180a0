"""SQL for extended statistics (CREATE STATISTICS): created once their table's columns exist,
dropped before columns and tables go, retargeted in place. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from migguard.core.identifiers import quote_literal, quote_qualified
from migguard.schema.model import Statistics


@dataclass(frozen=True)
class StatisticsStep:
    kind: str
    forward: str
    reverse: str
    stage: str  # "create" (after the columns) | "drop" (before columns change)


def create_sql(statistics: Statistics) -> str:
    """The definition as PostgreSQL prints it (qualified), with its target and comment."""
    name = quote_qualified(statistics.schema_name, statistics.name)
    text = statistics.definition.rstrip().rstrip(";") + ";"
    if statistics.target is not None:
        text += f"\nALTER STATISTICS {name} SET STATISTICS {int(statistics.target)};"
    if statistics.comment:
        text += f"\nCOMMENT ON STATISTICS {name} IS {quote_literal(statistics.comment)};"
    return text


def statistics_steps(old: Statistics | None, new: Statistics | None) -> list[StatisticsStep]:
    name = quote_qualified((old or new).schema_name, (old or new).name)
    drop = f"DROP STATISTICS {name};"
    if old is not None and new is not None and old.definition == new.definition:
        steps = []
        if old.target != new.target:
            alter = f"ALTER STATISTICS {name} SET STATISTICS"
            steps.append(StatisticsStep("alter statistics target", f"{alter} {_target(new.target)};",
                                        f"{alter} {_target(old.target)};", "create"))
        if old.comment != new.comment:
            def comment(text: str | None) -> str:
                return f"COMMENT ON STATISTICS {name} IS {'NULL' if text is None else quote_literal(text)};"
            steps.append(StatisticsStep("comment on statistics", comment(new.comment), comment(old.comment), "create"))
        return steps
    steps = []
    if old is not None:
        steps.append(StatisticsStep("drop statistics", drop, create_sql(old), "drop"))
    if new is not None:
        steps.append(StatisticsStep("create statistics", create_sql(new), drop, "create"))
    return steps


def _target(target: int | None) -> str:
    return "-1" if target is None else str(int(target))

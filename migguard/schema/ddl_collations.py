"""SQL for collations (CREATE COLLATION): created with the types, before any column uses them;
dropped after. PostgreSQL cannot alter a collation's definition, so a changed one is recreated
(which fails while a column uses it: the plan reports that). Pure: no I/O."""

from __future__ import annotations

from migguard.core.identifiers import quote_literal, quote_qualified
from migguard.schema.model import Collation


def create_sql(collation: Collation) -> str:
    name = quote_qualified(collation.schema_name, collation.name)
    options = [f"provider = {collation.provider}"]
    if collation.provider == "libc":
        options += [f"lc_collate = {quote_literal(collation.lc_collate or '')}",
                    f"lc_ctype = {quote_literal(collation.lc_ctype or '')}"]
    else:
        options.append(f"locale = {quote_literal(collation.locale or '')}")
    if collation.rules is not None:
        options.append(f"rules = {quote_literal(collation.rules)}")
    options.append(f"deterministic = {'true' if collation.deterministic else 'false'}")
    text = f"CREATE COLLATION {name} ({', '.join(options)});"
    if collation.comment:
        text += f"\nCOMMENT ON COLLATION {name} IS {quote_literal(collation.comment)};"
    return text


def drop_sql(collation: Collation) -> str:
    return f"DROP COLLATION {quote_qualified(collation.schema_name, collation.name)};"


def comment_sql(collation: Collation, text: str | None) -> str:
    name = quote_qualified(collation.schema_name, collation.name)
    return f"COMMENT ON COLLATION {name} IS {'NULL' if text is None else quote_literal(text)};"

"""`migguard query`: read-only inspection of production (SPEC section 3, POLICY "Query Restrictions").

Two sources of SQL, nothing else:
- `--playbook NAME [--param k=v]…`: an approved, named query from `playbooks.yaml`;
- `--sandbox SQL` (or `-` for stdin): an ad-hoc query, explicitly in sandbox mode.

`playbooks.yaml` (default: beside the config file; `--playbooks PATH` overrides)::

    version: 1                      # optional
    playbooks:
      - name: upcoming-bookings     # letters, digits, '-', '_', '.'
        description: Confirmed bookings of one tenant in the next N days
        params: [tenant_id, days]   # every parameter the SQL uses, and no other
        tenant_scoped: false        # optional; true: needs --tenant (RLS does the scoping)
        sql: |
          SELECT … WHERE b.tenant_id = %(tenant_id)s AND b.starts_at < now() + make_interval(days => %(days)s::int)

Parameters are psycopg's named placeholders, `%(name)s`; a literal `%` in playbook SQL is
written `%%` (as in any psycopg query with parameters). Values are sent as bound parameters of
unknown type, so PostgreSQL casts them (`%(d)s::date`); they are never spliced into the text.
A missing, undeclared or repeated `--param` is a usage error (exit 2); so is a playbook whose
SQL and `params` disagree.

Both sources run on PG_PROD_URL (environment or the env file), in one `READ ONLY` transaction
with `statement_timeout` (`--timeout`, default 5s) and `lock_timeout` (the config's) set
locally, and are rolled back afterwards. Before running, `query_check.analyse` refuses (exit 1)
anything that is not a single read-only statement, and the catalog decides which referenced
relations are multi-tenant: those must be filtered on the tenant column, unless `--tenant ID`
sets `tenant_setting` for the transaction (`set_config(…, true)`) and row-level security is
active on them for the connected role. A write that gets past the parser (a user-defined
function that writes) is stopped by the READ ONLY transaction: refused, exit 1. A statement
timeout or any other database error: exit 3.

Every run and every refusal is appended to the audit log (`audit_log`) as command "query",
result "query" (ran), "refused" or "failed", with the redacted target, the tenant (`--tenant`,
else the single tenant value the filter names), and details: the playbook name or
`"sandbox": true`, the SQL's SHA-256, parameter names (not values), the tenant filter values,
the number of rows returned, and for failures the SQLSTATE. Never row values, never the SQL
text, never error messages (which can quote data). Usage errors (exit 2) are not audited.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from migguard.core.audit import AuditLog
from migguard.core.config import Config, secret
from migguard.core.errors import DatabaseError, GateRefused, InputError, MigguardError
from migguard.core.redact import redact_text
from migguard.pg.catalog import named_relations
from migguard.pg.connect import connect, describe
from migguard.query.check import REFUSED, Analysis, Relation, analyse
from migguard.query.result import QueryResult

DEFAULT_PLAYBOOKS = "playbooks.yaml"
DEFAULT_TIMEOUT = "5s"
DEFAULT_LIMIT = 1000
CURSOR_NAME = "migguard_query"

_PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)(?P<conv>.?)|%%|%")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>us|ms|s|min|h|d)?")

class Playbook(BaseModel):
    """One approved query."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = Field(min_length=1)
    sql: str = Field(min_length=1)
    params: tuple[str, ...] = ()
    tenant_scoped: bool = False

    @field_validator("params")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _PARAM_NAME.fullmatch(name):
                raise ValueError(f"parameter name {name!r} is not an identifier")
        if len(set(value)) != len(value):
            raise ValueError("a parameter is declared twice")
        return value

    @model_validator(mode="after")
    def _placeholders_match(self) -> Playbook:
        used = set(placeholders(self.sql))
        declared = set(self.params)
        if used - declared:
            raise ValueError(f"the SQL uses undeclared parameter(s): {', '.join(sorted(used - declared))}")
        if declared - used:
            raise ValueError(f"declared parameter(s) not used in the SQL: {', '.join(sorted(declared - used))}")
        return self


class PlaybookFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    playbooks: tuple[Playbook, ...]

    @field_validator("playbooks")
    @classmethod
    def _unique(cls, value: tuple[Playbook, ...]) -> tuple[Playbook, ...]:
        seen: set[str] = set()
        for playbook in value:
            if playbook.name in seen:
                raise ValueError(f"playbook {playbook.name!r} is defined twice")
            seen.add(playbook.name)
        return value


def placeholders(sql: str) -> list[str]:
    """Parameter names in order of use; ValueError for any `%` that is neither `%(name)s` nor `%%`."""
    names = []
    for match in _PLACEHOLDER.finditer(sql):
        text = match.group(0)
        if text == "%%":
            continue
        if match.group("name") is None or match.group("conv") != "s" or not _PARAM_NAME.fullmatch(match["name"]):
            raise ValueError(f"'{text}' is not a parameter: write parameters as %(name)s and a literal % as %%")
        names.append(match["name"])
    return names


def load_playbooks(path: Path) -> dict[str, Playbook]:
    """The playbooks of a YAML file by name; InputError (exit 2) naming the file when it is not valid."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"playbooks file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read playbooks file {path}: {getattr(error, 'strerror', None) or 'not UTF-8'}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{path}: invalid YAML{where}: {getattr(error, 'problem', None) or error}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a mapping with a 'playbooks' list")
    try:
        parsed = PlaybookFile(**{str(k): v for k, v in document.items()})
    except ValidationError as error:
        first = error.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise InputError(f"{path}: {loc or 'playbooks'}: {message}") from None
    return {playbook.name: playbook for playbook in parsed.playbooks}


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """`k=v` strings → a dict; InputError for a malformed or repeated one."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not _PARAM_NAME.fullmatch(key):
            raise InputError(f"--param takes NAME=VALUE, not '{item}'")
        if key in params:
            raise InputError(f"--param {key} is given twice")
        params[key] = value
    return params


def check_timeout(value: str) -> str:
    """A positive PostgreSQL duration (`500ms`, `5s`, `2min`); InputError otherwise."""
    match = _DURATION.fullmatch(value.strip())
    if not match or float(match["number"]) <= 0:
        raise InputError(f"--timeout takes a positive duration such as 500ms, 5s or 2min, not '{value}'")
    return f"{match['number']}{match['unit'] or 'ms'}"


@dataclass(frozen=True)
class QueryOptions:
    playbook: str | None = None
    sandbox: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    playbooks_path: Path | None = None
    tenant: str | None = None
    timeout: str = DEFAULT_TIMEOUT
    limit: int = DEFAULT_LIMIT
    prod_url: str | None = None  # overrides PG_PROD_URL (tests)


@dataclass(frozen=True)
class _Prepared:
    """What runs (SQL and parameters for psycopg), what the checks made of it, what the audit records."""

    exec_sql: str
    params: Mapping[str, str] | None
    analysis: Analysis
    details: dict[str, Any]


def playbooks_path(options: QueryOptions, config: Config) -> Path:
    return options.playbooks_path or Path(config.root) / DEFAULT_PLAYBOOKS


def run_query(options: QueryOptions, config: Config) -> QueryResult:
    """Check, run and audit one read-only query on production; see the module docs."""
    if (options.playbook is None) == (options.sandbox is None):
        raise InputError("give exactly one of --playbook NAME or --sandbox SQL")
    if options.limit < 1:
        raise InputError("--limit must be at least 1")
    timeout = check_timeout(options.timeout)
    if options.tenant is not None and not options.tenant.strip():
        raise InputError("--tenant needs a tenant id")
    audit = AuditLog(Path(config.root) / config.audit_log)
    source = _source(options, config)  # usage errors (exit 2) come before anything else
    url = options.prod_url or secret("PG_PROD_URL", config)
    target = redact_text(url) if url else None
    details = source[0]

    def record(result: str, tenant: str | None = options.tenant, **extra: Any) -> None:
        audit.append("query", result=result, target=target, tenant=tenant, details={**details, **extra})

    try:  # a statement that writes is refused before production is even looked at
        prepared = _prepare(options, config, source)
    except GateRefused as refused:
        record("refused", rows=0, reason=refused.message)
        raise
    if not url:
        raise InputError("PG_PROD_URL is not set (environment or the env file): query reads production")
    try:
        conn = connect(url)
    except DatabaseError:
        record("failed", rows=0, stage="connect")
        raise
    with conn:
        try:
            columns, rows, truncated, tenant_values = _execute(conn, prepared, options, config, timeout)
        except _Refused as refused:
            record("refused", rows=0, reason=refused.error.message, tenant_filter=refused.tenant_values)
            raise refused.error from None
        except psycopg.Error as error:
            record("failed", rows=0, sqlstate=error.sqlstate or "", stage="query")
            raise _database_error(error, timeout, config) from None
        finally:
            _rollback(conn)
    concrete = set(tenant_values) - {"(subquery)", "(expression)"}
    tenant = options.tenant or (concrete.pop() if len(concrete) == 1 and len(set(tenant_values)) == 1 else None)
    record("query", tenant=tenant, rows=len(rows), truncated=truncated, tenant_filter=tenant_values)
    return QueryResult(
        source=f"playbook {options.playbook}" if options.playbook else "sandbox", target=target, tenant=tenant,
        columns=columns, rows=rows, truncated=truncated,
    )


def _source(options: QueryOptions, config: Config) -> tuple[dict[str, Any], str, Playbook | None]:
    """Audit details, the SQL as written, and the playbook: every usage error is raised here."""
    if options.sandbox is not None:
        if options.params:
            raise InputError("--param is for playbooks; a sandbox query carries its values inline")
        sql = options.sandbox
        return {"sandbox": True, "sql_sha256": _sha256(sql)}, sql, None
    path = playbooks_path(options, config)
    playbooks = load_playbooks(path)
    playbook = playbooks.get(options.playbook or "")
    if playbook is None:
        known = ", ".join(sorted(playbooks)) or "none"
        raise InputError(f"unknown playbook '{options.playbook}' in {path} (known: {known})")
    given, declared = set(options.params), set(playbook.params)
    if given - declared:
        raise InputError(f"playbook {playbook.name} does not declare parameter(s) "
                         f"{', '.join(sorted(given - declared))} (it takes: {', '.join(playbook.params) or 'none'})")
    if declared - given:
        raise InputError(f"playbook {playbook.name} needs --param for {', '.join(sorted(declared - given))}")
    if playbook.tenant_scoped and options.tenant is None:
        raise InputError(f"playbook {playbook.name} is tenant_scoped: pass --tenant ID")
    details = {"playbook": playbook.name, "sql_sha256": _sha256(playbook.sql), "params": sorted(playbook.params)}
    return details, playbook.sql, playbook


def _prepare(options: QueryOptions, config: Config, source: tuple[dict[str, Any], str, Playbook | None]) -> _Prepared:
    details, sql, playbook = source
    if playbook is None:
        return _Prepared(sql, None, analyse(sql, config.tenant_column), details)
    numbers: dict[str, int] = {}

    def to_positional(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        return f"${numbers.setdefault(match['name'], len(numbers) + 1)}"

    parser_sql = _PLACEHOLDER.sub(to_positional, sql)
    values = {number: options.params[name] for name, number in numbers.items()}
    analysis = analyse(parser_sql, config.tenant_column, values)
    return _Prepared(sql, dict(options.params), analysis, details)


class _Refused(Exception):
    def __init__(self, error: GateRefused, tenant_values: list[str]) -> None:
        super().__init__(error.message)
        self.error, self.tenant_values = error, tenant_values


def _execute(conn: psycopg.Connection, prepared: _Prepared, options: QueryOptions, config: Config,
             timeout: str) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...], bool, list[str]]:
    conn.read_only = True  # BEGIN READ ONLY: the second wall, whatever the parser missed
    analysis = prepared.analysis
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true), "
                    "current_setting('transaction_read_only'), current_user",
                    (timeout, config.lock_timeout))
        _, _, read_only, role = cur.fetchone()
        if read_only != "on":  # pragma: no cover - psycopg's read_only guarantees it
            raise DatabaseError("the transaction is not read-only; refusing to run the query")
        catalog = _catalog(cur, analysis.refs, config.tenant_column)
        problems = analysis.tenant_problems(catalog, options.tenant, role)
        if problems:
            raise _Refused(GateRefused(f"{REFUSED}: {'; '.join(problems)}"), analysis.filter_values)
        if options.tenant is not None:
            cur.execute("SELECT set_config(%s, %s, true)", (config.tenant_setting, options.tenant))
    cursor = conn.cursor(name=CURSOR_NAME) if analysis.cursor_ok else conn.cursor()
    try:
        cursor.execute(prepared.exec_sql, prepared.params)
        columns = tuple(d.name for d in cursor.description or ())
        fetched = cursor.fetchmany(options.limit + 1) if cursor.description else []
    except psycopg.errors.ReadOnlySqlTransaction as error:
        raise _Refused(GateRefused(f"{REFUSED}: it tried to write and the READ ONLY transaction stopped it "
                                   f"({describe(error)})"), analysis.filter_values) from None
    finally:
        try:
            cursor.close()
        except psycopg.Error:  # an aborted transaction: the rollback closes it
            pass
    rows = tuple(tuple(row) for row in fetched[:options.limit])
    return columns, rows, len(fetched) > options.limit, analysis.filter_values


def _catalog(cur: psycopg.Cursor, refs: list[str], column: str) -> dict[str, Relation]:
    if not refs:
        return {}
    catalog = {}
    for ref, name, kind, has_tenant, rls_active, invoker, bases in named_relations(cur, refs, column):
        parsed = tuple((base.rpartition(":")[0], base.rpartition(":")[2] == "true") for base in bases or ())
        catalog[ref] = Relation(name, kind, has_tenant, bool(rls_active), invoker, parsed)
    return catalog


def _rollback(conn: psycopg.Connection) -> None:
    try:
        conn.rollback()
    except psycopg.Error:  # the connection is going away anyway
        pass


def _database_error(error: psycopg.Error, timeout: str, config: Config) -> MigguardError:
    if isinstance(error, psycopg.errors.LockNotAvailable):
        return DatabaseError(f"query cancelled: it waited longer than lock_timeout ({config.lock_timeout}) for a lock")
    if isinstance(error, psycopg.errors.QueryCanceled):
        return DatabaseError(f"query cancelled: statement timeout ({timeout}) reached; narrow the query "
                             "or raise --timeout")
    return DatabaseError(f"query failed: {describe(error)}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

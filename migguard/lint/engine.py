"""`migguard lint`: run the enabled rules over migration files and build the report.

The checks know nothing of paths, configured severities or ignores; this module adds them:
rule selection, severity overrides, `--allow-destructive`, the drop to `info` for objects
created earlier in the same migration, ignore directives, and the gate verdict. Results are
cached per file (lint/cache.py: keyed by content, path and settings) and computed in parallel over files.

The live gate (`apply --confirm-live`) lints in `live` mode: an in-file ignore of a destructive
rule records a reason but does not accept the finding there; only `--allow-destructive` does.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migguard.core import collector
from migguard.core.errors import InputError
from migguard.core.findings import SORT_KEY, Finding, Report, Severity
from migguard.core.sources import dbmate_section, discover, is_dbmate, read_sql, sql_file_names
from migguard.lint.cache import LintCache
from migguard.lint.settings import LintSettings, project_path

if TYPE_CHECKING:
    from migguard.lint.rule import Rule, Violation
    from migguard.sql.parse import ParsedFile, Statement

# The rule registry, the directives and the SQL parsers (sqlglot, pglast) are imported where a file is linted,
# not here: a lint answered wholly from the cache never loads them (see tests/lint/test_fast_start.py).


@dataclass(frozen=True)
class RulePolicy:
    """Which rules run and at what severity: config + command line, resolved once."""

    enabled: frozenset[str]
    severities: dict[str, Severity] = field(default_factory=dict)
    allow_destructive: bool = False
    # The live gate: destructive rules always run at their own severity, and an in-file ignore of
    # one does not silence it (it still needs --allow-destructive, the person's explicit yes).
    live: bool = False

    @classmethod
    def build(cls, config_rules: dict[str, str] | None = None, select: Sequence[str] = (),
              ignore: Sequence[str] = (), allow_destructive: bool = False, live: bool = False) -> RulePolicy:
        from migguard.lint.dispatch import RULES

        config_rules = config_rules or {}
        chosen = _expand(select) if select else set(RULES)
        chosen -= _expand(ignore)
        chosen -= {rule_id for rule_id, value in config_rules.items() if value == "off"}
        chosen |= {"syntax-error"}  # a statement PostgreSQL rejects is always reported
        severities = {rule_id: Severity(value) for rule_id, value in config_rules.items() if value != "off"}
        if live:  # a config entry is an ignore for every file: it cannot turn a destructive rule off either
            destructive = {rule_id for rule_id, (_, is_destructive, *_) in RULES.items() if is_destructive}
            chosen |= destructive
            severities = {k: v for k, v in severities.items() if k not in destructive}
        return cls(frozenset(chosen), severities, allow_destructive, live)

    def severity(self, rule: Rule, violation: Violation | None = None) -> Severity:
        severity = self.severities.get(rule.id, rule.default_severity)
        if rule.destructive and self.allow_destructive and severity == Severity.ERROR:
            severity = Severity.WARNING
        if violation is not None and violation.new_object:
            severity = Severity.INFO
        return severity

    @functools.cached_property
    def fingerprint(self) -> str:
        """The policy as a cache-key part; computed once (a large lint asks once per file)."""
        data = [sorted(self.enabled), sorted((k, v.value) for k, v in self.severities.items()), self.allow_destructive,
                self.live]
        return json.dumps(data)


@dataclass(frozen=True)
class PolicyRequest:
    """What the config and the command line ask of the rules, before the rule registry resolves it.

    `migguard lint` keys its cache by this request, so a lint answered wholly from the cache never
    imports the rules or the SQL parsers. A request that cannot be resolved (an unknown rule id) raised
    when first linted and stored nothing, so it is never found in the cache either; with no file to
    lint, `run_lint` resolves it anyway.
    """

    config_rules: tuple[tuple[str, str], ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    allow_destructive: bool = False

    @functools.cached_property
    def fingerprint(self) -> str:
        return json.dumps(["request", [list(p) for p in self.config_rules], list(self.select), list(self.ignore),
                           self.allow_destructive])

    @functools.cached_property
    def resolved(self) -> RulePolicy:
        return RulePolicy.build(dict(self.config_rules), self.select, self.ignore, self.allow_destructive)


class ConfiguredFindings(list):
    """A list of findings from outside lint (plan, rls check, scan-app) to which the configured
    rule settings apply on the way in: "off" drops a finding, a severity replaces its default."""

    def __init__(self, config_rules: dict[str, str] | None) -> None:
        super().__init__()
        self._rules = config_rules or {}

    def _configure(self, finding: Finding) -> Finding | None:
        setting = self._rules.get(finding.rule)
        if setting is None:
            return finding
        if setting == "off":
            return None
        return finding.model_copy(update={"severity": Severity(setting)})

    def append(self, finding: Finding) -> None:
        configured = self._configure(finding)
        if configured is not None:
            super().append(configured)

    def __iadd__(self, findings: Iterable[Finding]) -> ConfiguredFindings:
        for finding in findings:
            self.append(finding)
        return self


def _expand(names: Sequence[str]) -> set[str]:
    """Rule ids and family names → rule ids; an unknown name is an input error."""
    from migguard.lint.dispatch import FAMILIES, RULES

    ids: set[str] = set()
    for raw in names:
        for name in filter(None, (part.strip() for part in raw.split(","))):
            if name in RULES:
                ids.add(name)
            elif name in FAMILIES:
                ids.update(FAMILIES[name])
            else:
                raise InputError(f"unknown rule id or family '{name}' (see `migguard rules`)")
    return ids


# --- one file ------------------------------------------------------------------------------------


@dataclass
class LintResult:
    """Findings, and the destructive findings an in-file ignore (with its reason) named.

    Outside live mode those are silenced, as the ignore asks. In live mode they stay findings, at
    error, unless --allow-destructive was given too: then the ignore and the flag together accept
    them, and the gate lists them so the acceptance can be printed and audited.
    """

    findings: list[Finding] = field(default_factory=list)
    ignored_destructive: list[Finding] = field(default_factory=list)


def lint_text(path: str, text: str, settings: LintSettings, policy: RulePolicy) -> list[Finding]:
    """Findings for one migration's SQL text, sorted."""
    return lint_file(path, text, settings, policy).findings


def lint_file(path: str, text: str, settings: LintSettings, policy: RulePolicy) -> LintResult:
    """Findings for one migration's SQL text, sorted, and the destructive ones its ignores named."""
    from migguard.lint.context import LintContext
    from migguard.lint.dispatch import RULES, load
    from migguard.sql.parse import executed, parse_file
    from migguard.sql.shapes import NOTHING_TO_CHECK

    parsed = parse_file(text)
    context = LintContext(path, parsed.statements, settings, parsed.text)
    raw: list[tuple[Rule, Violation | None, Finding]] = []
    for statement in parsed.statements:
        if statement.syntax_error is not None:
            problem = statement.syntax_error
            rule = load("syntax-error")
            raw.append((rule, None, _finding(rule, policy.severity(rule), path, statement.index,
                                             (problem.line, problem.column), (statement.end_line, statement.end_column),
                                             f"PostgreSQL rejects this statement: {problem.message}",
                                             "Fix the statement; the rest of the file was still checked.")))
        elif (statement.node_kind not in NOTHING_TO_CHECK and "unanalysed-statement" in policy.enabled
              and statement.kind == "unanalysed"):  # the node kind answers most without parsing further
            rule = load("unanalysed-statement")
            node_type = getattr(statement.command, "node_type", "statement")
            raw.append((rule, None, _finding(rule, policy.severity(rule), path, statement.index,
                                             (statement.line, statement.column),
                                             (statement.end_line, statement.end_column),
                                             f"migguard has no model for this {node_type}; no rule checked it.",
                                             "Review this statement by hand.")))
    # The destructive rules also judge what DO blocks and prepared statements run (parse.executed).
    flat = executed(parsed.statements)
    run_context = LintContext(path, flat, settings, parsed.text, surely_new=True)
    in_file = _file_statements(parsed.statements, flat)
    # A rule that judges only some node kinds is not run, nor its module imported, on a file that has none of them.
    present = {id(context): {s.node_kind for s in parsed.statements}}
    present[id(run_context)] = present[id(context)] if flat is parsed.statements else {s.node_kind for s in flat}
    for rule_id, (_, destructive, has_check, kinds) in RULES.items():
        if not has_check or rule_id not in policy.enabled:
            continue
        checked = run_context if destructive else context
        if kinds is not None and kinds.isdisjoint(present[id(checked)]):
            continue
        rule = load(rule_id)
        checked.kinds = rule.kinds
        try:
            violations = list(rule.check(checked))
        except RecursionError:  # a rule walking sqlglot's tree of a pathologically nested expression
            raise InputError(f"{path}: an expression is nested too deeply to analyse (rule {rule.id} gave up); "
                             "split or simplify it") from None
        for violation in violations:
            statement, message = violation.statement, violation.message
            if statement.origin is not None:  # reported where the file runs it
                outer = parsed.statements[statement.origin.outer]
                start = parsed.position(outer.start + statement.origin.offset)
                message = f"In {statement.origin.how}, `{_shown(statement.text)}`: {message}"
                statement = outer
            else:
                statement = in_file[statement.index] if checked is run_context else statement
                start = parsed.position(statement.start + violation.offset)
            raw.append((rule, violation, _finding(rule, policy.severity(rule, violation), path, statement.index,
                                                  start, (statement.end_line, statement.end_column),
                                                  message, violation.hint)))
    result = _apply_directives(parsed, raw, path, policy)
    result.findings.sort(key=lambda f: f.sort_key)
    return result


def _file_statements(statements: tuple[Statement, ...], flat: tuple[Statement, ...]) -> dict[int, Statement]:
    """Index in the executed sequence → the file's statement, for the statements the file holds itself."""
    outer = iter(statements)
    return {s.index: next(outer) for s in flat if s.origin is None}


def _shown(sql: str, limit: int = 80) -> str:
    """One line of SQL for a message."""
    line = " ".join(sql.split()).replace("`", "'")
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _finding(rule: Rule, severity: Severity, path: str, index: int, start: tuple[int, int],
             end: tuple[int, int], message: str, hint: str | None) -> Finding:
    end = max(end, start)
    return Finding(rule=rule.id, severity=severity, path=path, line=start[0], column=start[1], end_line=end[0],
                   end_column=end[1], statement=index, message=message, hint=hint)


def _apply_directives(parsed: ParsedFile, raw: list[tuple[Rule, Violation | None, Finding]], path: str,
                      policy: RulePolicy) -> LintResult:
    from migguard.lint.directives import find_directives, target_statements
    from migguard.lint.dispatch import RULES, load

    directives = find_directives(parsed.text)
    if not directives:
        return LintResult([finding for _, _, finding in raw])
    ignored: list[Finding] = []
    spans = [(s.line, s.end_line) for s in parsed.statements]
    kept: list[Finding] = []
    used: set[tuple[int, str]] = set()
    extra: list[Finding] = []
    targets = {id(d): target_statements(d, spans) for d in directives if not d.file_level}
    for rule, _violation, finding in raw:
        silenced_by = None
        for directive in directives:
            if rule.id not in directive.rules:
                continue
            if not directive.file_level and finding.statement not in targets[id(directive)]:
                continue
            used.add((directive.line, rule.id))
            if rule.destructive and not directive.reason:
                meta = load("ignore-without-reason")
                if meta.id in policy.enabled:
                    extra.append(_finding(meta, policy.severity(meta), path, finding.statement or 0,
                                          (directive.line, directive.column), (directive.line, directive.column),
                                          f"The ignore of destructive rule {rule.id} has no reason, so it does not apply.",
                                          f"Write the reason after a second '--': -- migguard:ignore {rule.id} -- why"))
                continue
            silenced_by = silenced_by or directive
        if silenced_by is None:
            kept.append(finding)
        elif rule.destructive:
            ignored.append(finding)
            if policy.live and not policy.allow_destructive:
                kept.append(finding.model_copy(update={"message": (
                    f"{finding.message} The in-file ignore on line {silenced_by.line} gives a reason "
                    f"(\"{silenced_by.reason}\"), but on the live path only --allow-destructive accepts it.")}))
    meta = load("unused-ignore")
    if meta.id in policy.enabled:
        for directive in directives:
            for rule_id in directive.rules:
                if rule_id not in RULES:
                    message = f"The ignore names '{rule_id}', which is not a rule id."
                elif (directive.line, rule_id) not in used and rule_id in policy.enabled:
                    message = f"The ignore of {rule_id} silences nothing here."
                else:
                    continue
                extra.append(_finding(meta, policy.severity(meta), path, 0, (directive.line, directive.column),
                                      (directive.line, directive.column), message,
                                      "Remove the ignore, or correct the rule id (see `migguard rules`)."))
    return LintResult(kept + _dedupe(extra), ignored)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, unique = set(), []
    for finding in findings:
        key = (finding.rule, finding.line, finding.column, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


# --- many files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LintTarget:
    """A file to lint: the path shown in findings, and its SQL (dbmate down sections blanked)."""

    path: str
    text: str


def collect_targets(paths: Sequence[str], layout: str = "auto", stdin_text: str | None = None,
                    stdin_filename: str = "<stdin>") -> list[LintTarget]:
    """Files named, and migration files found in directories (forward scripts, in order)."""
    targets: list[LintTarget] = []
    for raw in paths:
        if raw == "-":
            if stdin_text is None:
                raise InputError("'-' given but nothing was read from standard input")
            text = dbmate_section(stdin_text, "up") if is_dbmate(stdin_text) else stdin_text
            targets.append(LintTarget(stdin_filename, text))
            continue
        path = Path(raw)
        if path.is_dir():
            files = [m.up for m in discover(path, layout, unique=False)] if _looks_like_migrations(path) else sql_file_names(path)
            for file in files:
                targets.append(_target(file))
        elif path.exists():
            targets.append(_target(path))
        else:
            raise InputError(f"{raw}: no such file or directory")
    return targets


_PER_DIRECTORY_SCRIPTS = ("up.sql", "down.sql", "migration.sql")


def _looks_like_migrations(directory: Path) -> bool:
    """A directory of migrations is ordered by version; any other tree is linted file by file.

    Migrations are either .sql files in it, or one directory per migration (diesel's
    up.sql/down.sql, prisma's migration.sql): there only forward scripts are linted.
    """
    for child in directory.iterdir():
        if child.suffix == ".sql" and child.is_file():
            return True
        if child.is_dir() and any((child / name).is_file() for name in _PER_DIRECTORY_SCRIPTS):
            return True
    return False


def _target(path: Path | str) -> LintTarget:
    """`path`: a Path, or a POSIX path's text (sources.sql_file_names)."""
    text = read_sql(path)
    if is_dbmate(text):
        text = dbmate_section(text, "up")
    return LintTarget(path if isinstance(path, str) else path.as_posix(), text)


def changed_files(ref: str, paths: Sequence[str]) -> list[str]:
    """SQL files under `paths` added or modified since git `ref` (committed, staged or not, untracked).

    "Since" is measured from the merge base of `ref` and HEAD, as a pull request's diff is: a
    migration changed on `ref` after the branch was cut is not part of this change.
    """
    def git(*args: str, cwd: Path | None = None) -> str:
        try:
            result = subprocess.run(["git", *args], capture_output=True, text=True, check=False, cwd=cwd)
        except OSError as error:
            raise InputError(f"--changed-since needs git: {error.strerror}") from None
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["exit status " + str(result.returncode)])[-1]
            raise InputError(f"git {args[0]} failed: {last}"[:300])
        return result.stdout

    top = Path(git("rev-parse", "--show-toplevel").strip())
    try:
        git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=top)
    except InputError:
        raise InputError(f"--changed-since: unknown git ref '{ref}'") from None
    try:
        base = git("merge-base", ref, "HEAD", cwd=top).strip()
    except InputError:  # no common history (or no HEAD yet): compare with the ref itself
        base = ref
    # -z: names verbatim (no quoting of unusual characters); both lists are relative to `top`.
    names = git("diff", "-z", "--name-only", "--no-renames", "--diff-filter=ACM", base, "--", cwd=top).split("\0")
    names += git("ls-files", "-z", "--others", "--exclude-standard", cwd=top).split("\0")
    roots = [Path(p).resolve() for p in paths] or [Path.cwd().resolve()]
    chosen = []
    for name in dict.fromkeys(filter(None, names)):
        file = (top / name).resolve()
        if file.suffix == ".sql" and file.is_file() and any(file == r or r in file.parents for r in roots):
            chosen.append(os.path.relpath(file))
    return sorted(chosen)


def _lint_one(args: tuple[LintTarget, LintSettings, RulePolicy]) -> list[Finding]:
    target, settings, policy = args
    return lint_text(target.path, target.text, settings, policy)


# Below this many uncached files a worker pool costs more than it saves.
_PARALLEL_THRESHOLD = 64


def lint_targets(targets: Sequence[LintTarget], settings: LintSettings, policy: RulePolicy | PolicyRequest,
                 cache: LintCache | None = None, jobs: int | None = None) -> list[Finding]:
    """Lint every target (cached, and in parallel over files when there are many). A PolicyRequest is
    resolved only when some file is not in the cache."""
    cache = cache or LintCache(None)
    results: dict[int, list[Finding]] = {}
    pending: list[tuple[int, str]] = []
    # Without a cache (--no-cache) no key is computed: it hashes every module of migguard (cache.code_version).
    keys = [cache.key(target, settings, policy) for target in targets] if cache.directory is not None else [""] * len(targets)
    found = cache.get_many([(key, target.path) for key, target in zip(keys, targets, strict=True)])
    for position, (key, cached) in enumerate(zip(keys, found, strict=True)):
        if cached is None:
            pending.append((position, key))
        else:
            results[position] = cached
    jobs = jobs or min(os.cpu_count() or 1, 8)
    if pending and isinstance(policy, PolicyRequest):
        policy = policy.resolved
    work = [(targets[position], settings, policy) for position, _ in pending]
    if jobs > 1 and len(work) >= _PARALLEL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor  # multiprocessing costs an import a single file avoids

        collector.resume()  # the workers inherit the collector's state
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_fork_context()) as pool:
            computed = list(pool.map(_lint_one, work, chunksize=max(1, len(work) // (jobs * 8))))
    else:
        computed = []
        for position, item in enumerate(work):
            if position:  # the first file loaded the rules and parsers: the CLI's startup is over
                collector.resume()
            computed.append(_lint_one(item))
    for (position, key), findings in zip(pending, computed, strict=True):
        results[position] = findings
        cache.put(key, findings)
    cache.save()
    return [finding for position in range(len(targets)) for finding in results[position]]


def lint_live(targets: Sequence[LintTarget], settings: LintSettings, policy: RulePolicy) -> LintResult:
    """The live gate's lint: computed here and now, never read from the cache.

    A cache entry's key is a hash of inputs anyone can recompute, so whoever can write
    `.migguard/cache` can plant "no findings" under exactly the key the gate would look up: the key
    authenticates the question, not the answer, and migguard holds no secret to sign answers with.
    Linting the few pending migrations costs milliseconds.
    """
    result = LintResult()
    for target in targets:
        one = lint_file(target.path, target.text, settings, policy)
        result.findings.extend(one.findings)
        result.ignored_destructive.extend(one.ignored_destructive)
    return result


def _fork_context():
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def gate_passes(findings: Iterable[Finding], strict: bool) -> bool:
    """The gate fails on any error, and on any warning with --strict."""
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return not any(f.severity in failing for f in findings)


def build_report(findings: list[Finding], targets: Sequence[LintTarget], strict: bool) -> Report:
    findings = sorted(findings, key=SORT_KEY)
    counts = Counter(f.severity for f in findings)
    summary: dict[str, int | str | list[str]] = {
        "files": len(targets),
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "infos": counts[Severity.INFO],
    }
    return Report(command="lint", ok=gate_passes(findings, strict), findings=tuple(findings), summary=summary,
                  sources={t.path: t.text for t in targets})


@dataclass(frozen=True)
class LintOptions:
    """Everything `migguard lint` takes from the command line."""

    paths: tuple[str, ...] = ()
    stdin_text: str | None = None
    stdin_filename: str = "<stdin>"
    changed_since: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    allow_destructive: bool = False
    strict: bool = False
    pg_version: int | None = None
    use_cache: bool = True
    jobs: int | None = None


def run_lint(options: LintOptions, config) -> Report:
    """The lint command as a plain function: options + config → report."""
    policy = PolicyRequest(tuple(sorted((config.rules or {}).items())), options.select, options.ignore,
                           options.allow_destructive)
    settings = LintSettings.from_config(config, options.pg_version)
    # The configured directory is relative to the config file, wherever migguard runs from.
    paths = options.paths or (project_path(config, config.migrations),)
    if options.changed_since:
        paths = tuple(changed_files(options.changed_since, [p for p in paths if p != "-"]))
    targets = collect_targets(paths, config.layout, options.stdin_text, options.stdin_filename)
    if not targets:
        policy.resolved  # noqa: B018 - an unknown rule id is an input error even with nothing to lint
    cache = LintCache(Path(config.root) / ".migguard" / "cache" if options.use_cache else None)
    findings = lint_targets(targets, settings, policy, cache, options.jobs)
    return build_report(findings, targets, options.strict)


"""Lint the regression corpus's `migration` category with migguard and squawk; print the figures.

    python bench/lint_corpus.py [--corpus DIR] [--repeat N] [--profile]

The corpus is `../shared/corpus` next to the repository (SOURCES.md lists its folders and
categories). migguard runs through its CLI (`python -m migguard lint --format json` on the
folders) three ways: cold (`--no-cache`, default parallelism), cold single-process (in-process
`lint_targets(jobs=1)`, since the CLI has no jobs switch), and warm (second run with the cache in
a temporary directory). squawk (from the squawk-cli wheel) gets the same files. Parse
classification figures come from `migguard.sql.parse.parse_file` in-process. This prints figures;
it asserts nothing. `--profile` adds a cProfile summary of the single-process lint.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"


def migration_folders(corpus: Path) -> list[Path]:
    """The `migration` folders of SOURCES.md's table, in table order."""
    lines = [line.strip() for line in (corpus / "SOURCES.md").read_text(encoding="utf-8").splitlines()]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    header = rows[0]
    folder, category = header.index("folder"), header.index("category")
    return [corpus / row[folder] for row in rows[1:] if len(row) > category and row[category] == "migration"
            and (corpus / row[folder]).is_dir()]


# CPU seconds (user + system) of the finished child processes: on a loaded machine (other jobs on the same
# cores) wall time says more about the neighbours than about the program; both are printed.
CPU: dict[tuple[str, ...], float] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    cpu, start = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    key = tuple(command)
    CPU[key] = min(CPU.get(key, float("inf")), _children_cpu() - cpu)
    return wall, result


def best_of(repeat: int, command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    runs = [timed(command, cwd) for _ in range(repeat)]
    return min(runs, key=lambda run: run[0])


def cpu_of(command: list[str]) -> float:
    """The least CPU time one run of `command` took (see CPU)."""
    return CPU[tuple(command)]


def find_squawk() -> str | None:
    local = Path(sys.executable).parent / "squawk"
    return str(local) if local.is_file() else shutil.which("squawk")


def squawk_arguments(corpus: Path, folders: list[Path], files: list[str]) -> tuple[list[str], str]:
    """The file list if it fits the OS argument limit, else one glob per folder (squawk expands it)."""
    relative = [os.path.relpath(f, corpus) for f in files]
    size = sum(len(a) + 1 + 8 for a in relative) + sum(len(k) + len(v) + 2 + 8 for k, v in os.environ.items())
    limit = os.sysconf("SC_ARG_MAX") if hasattr(os, "sysconf") else 32_000
    if size < limit - 64_000:
        return relative, "file list"
    return [f"{folder.name}/**/*.sql" for folder in folders], "glob per folder (file list exceeds ARG_MAX)"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "  n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("MIGGUARD_CORPUS", DEFAULT_CORPUS)))
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement; the best is shown")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile summary (top 15)")
    args = parser.parse_args()
    corpus: Path = args.corpus.resolve()
    if not (corpus / "SOURCES.md").is_file():
        print(f"corpus not found at {corpus} (expected SOURCES.md there)", file=sys.stderr)
        return 2

    from migguard import __version__
    from migguard.lint.context import LintSettings
    from migguard.lint.engine import RulePolicy, collect_targets, lint_targets
    from migguard.sql.parse import parse_file

    folders = migration_folders(corpus)
    targets = collect_targets([str(f) for f in folders])  # exactly what the CLI lints for these paths
    paths = [t.path for t in targets]
    python = sys.executable
    print(f"migguard {__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")
    print(f"corpus: {corpus}: {len(folders)} migration folders, {len(targets)} files, "
          f"{sum(len(t.text.encode()) for t in targets):,} bytes")

    # --- parse classification (in-process) ---------------------------------------------------
    kinds: Counter[str] = Counter()
    crashes: list[str] = []
    start = time.perf_counter()
    for target in targets:
        try:
            statements = parse_file(target.text).statements
        except Exception as error:  # noqa: BLE001 - counted and shown, never fatal here
            crashes.append(f"{target.path}: {type(error).__name__}: {error}")
            continue
        kinds.update(s.kind for s in statements)
    parse_seconds = time.perf_counter() - start
    total = sum(kinds.values())
    print(f"\nstatements: {total:,} (parse_file over all files, single process: {parse_seconds:.2f} s)")
    for kind, label in (("typed", "typed by sqlglot"), ("recognised", "recognised via pglast fallback"),
                        ("unanalysed", "unanalysed"), ("syntax-error", "syntax-error (PostgreSQL rejects)")):
        print(f"  {label:<34} {kinds[kind]:>6}  {percent(kinds[kind], total)}")
    print(f"  {'crash (files whose parse raised)':<34} {len(crashes):>6}")
    for line in crashes[:10]:
        print(f"    {line}")

    # --- migguard through the CLI ------------------------------------------------------------
    # A wheel install ships bytecode; an editable one under PYTHONDONTWRITEBYTECODE (set in some CI and
    # sandboxes) compiles every module from source on every start, which is not what users run.
    subprocess.run([python, "-m", "compileall", "-q", str(REPO / "migguard")], check=False, capture_output=True)
    print(f"\nmigguard (best of {args.repeat}; wall, and CPU = user + system of the process and its workers):")
    version = [python, "-m", "migguard", "--version"]
    startup = min(timed(version, REPO)[0] for _ in range(5))
    print(f"  startup `migguard --version`            {startup:7.3f} s  cpu {cpu_of(version):6.3f} s  (best of 5)")
    # A column definition needs sqlglot's typed tree; SET, CREATE INDEX, DROP and plain ALTER TABLE actions are
    # read from PostgreSQL's tree alone, and such a file never imports sqlglot.
    single_files = {
        "one.sql": "ALTER TABLE accounts ADD COLUMN note text;\nCREATE INDEX accounts_note ON accounts (note);\n",
        "plain.sql": "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY accounts_note ON accounts (note);\n"
                     "ALTER TABLE accounts DROP COLUMN legacy;\n",
    }
    with tempfile.TemporaryDirectory(prefix="migguard-one-") as scratch:
        for name, sql in single_files.items():
            (Path(scratch) / name).write_text(sql, encoding="utf-8")
            single_file = [python, "-m", "migguard", "lint", "--no-cache", str(Path(scratch) / name)]
            one_wall, _ = best_of(max(args.repeat, 5), single_file, Path(scratch))
            print(f"  single file `migguard lint {name}`{' ' * (12 - len(name))}{one_wall:7.3f} s  "
                  f"cpu {cpu_of(single_file):6.3f} s  (target ≤ 0.25 s wall)")
    folder_args = [str(f) for f in folders]
    with tempfile.TemporaryDirectory(prefix="migguard-bench-") as scratch:
        work = Path(scratch)
        (work / "migguard.toml").write_text("", encoding="utf-8")  # config root → cache in work/.migguard
        lint = [python, "-m", "migguard", "lint", "--format", "json", *folder_args]
        cold_command = [*lint[:4], "--no-cache", *lint[4:]]
        cold, result = best_of(args.repeat, cold_command, work)
        report = describe_run(result)
        print(f"  cold, --no-cache, parallel (default)    {cold:7.3f} s  cpu {cpu_of(cold_command):6.3f} s  {report}")

        policy, settings = RulePolicy.build(), LintSettings()
        single = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            lint_targets(collect_targets(folder_args), settings, policy, None, jobs=1)
            single.append(time.perf_counter() - start)
        print(f"  cold, single process (in-process jobs=1) {min(single):6.3f} s  "
              "(read + lint only: no interpreter start, import or rendering)")

        timed(lint, work)  # fill the cache
        cache = work / ".migguard" / "cache"
        entries = cache_entries(cache)
        warm, result = best_of(args.repeat, lint, work)
        print(f"  warm, cache in a temp dir               {warm:7.3f} s  cpu {cpu_of(lint):6.3f} s  {describe_run(result)}; "
              f"{entries} cache entries in {len(list(cache.glob('*.json')))} file(s)")

    # --- squawk -----------------------------------------------------------------------------
    squawk = find_squawk()
    print()
    if squawk is None:
        print("squawk: not found (pip install 'migguard[bench]' installs squawk-cli); migguard figures only")
        return 0
    version = subprocess.run([squawk, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    arguments, how = squawk_arguments(corpus, folders, paths)
    squawk_command = [squawk, "--reporter", "json", *arguments]
    seconds, result = best_of(args.repeat, squawk_command, corpus)
    if result.returncode not in (0, 1):
        print(f"{version}: exit code {result.returncode}: {result.stderr.strip()[:300]}")
        return 0
    try:
        found = len(json.loads(result.stdout or "[]"))
    except ValueError:
        found = -1
    squawk_cpu = cpu_of(squawk_command)
    print(f"{version} (best of {args.repeat}, {how}, exit {result.returncode}): {seconds:.3f} s, "
          f"cpu {squawk_cpu:.3f} s, {found:,} findings")
    print(f"\nratio migguard/squawk (wall): cold {cold / seconds:.1f}x (target ≤ 1.5x), warm {warm / seconds:.1f}x "
          f"(target ≤ 1.0x), single-process in-process {min(single) / seconds:.1f}x")
    print(f"ratio migguard/squawk (cpu):  cold {cpu_of(cold_command) / squawk_cpu:.1f}x, "
          f"warm {cpu_of(lint) / squawk_cpu:.1f}x")

    if args.profile:
        profile(targets, folder_args)
    return 0


def cache_entries(cache: Path) -> int:
    """The files the lint cache holds findings for (one JSON document, lint/cache.py)."""
    total = 0
    for file in cache.glob("*.json") if cache.is_dir() else ():
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        total += len(document.get("entries", {})) if isinstance(document, dict) else 0
    return total


def describe_run(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode not in (0, 1):
        return f"(exit {result.returncode}: {result.stderr.strip()[-300:]})"
    summary = json.loads(result.stdout).get("summary", {})
    return (f"(exit {result.returncode}: {summary.get('files')} files, {summary.get('errors')} errors, "
            f"{summary.get('warnings')} warnings, {summary.get('infos')} infos)")


def profile(targets, folder_args: list[str]) -> None:
    from migguard.lint.context import LintSettings
    from migguard.lint.engine import RulePolicy, collect_targets, lint_targets

    profiler = cProfile.Profile()
    profiler.enable()
    lint_targets(collect_targets(folder_args), LintSettings(), RulePolicy.build(), None, jobs=1)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
    print(f"\ncProfile: in-process single-process lint of {len(targets)} files, top 15 by cumulative time")
    print(out.getvalue().strip())


if __name__ == "__main__":
    sys.exit(main())

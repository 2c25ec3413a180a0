"""Every renderer; pure functions from a typed result to text. This module maps the format names
of a findings Report (lint, plan, rls check, scan-app) to their renderer: render(report) -> str.
The commands with their own result types have their renderers beside them: status.py, diff.py,
query.py (with its format map), rules.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import import_module

from migguard.core.errors import InputError
from migguard.core.findings import Report

FORMAT_NAMES = ("text", "json", "sarif", "github", "markdown")


def renderer(name: str) -> Callable[[Report], str]:
    """The render function of a format (imported on use, so `--version` stays fast)."""
    if name not in FORMAT_NAMES:
        raise KeyError(name)
    return import_module(f"migguard.report.{name}").render


def append_job_summary(markdown: str) -> None:
    """Append Markdown to the CI job summary (GitHub's GITHUB_STEP_SUMMARY file), when there is one."""
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary_path:
        return
    try:
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(markdown)
    except OSError as error:
        raise InputError(f"cannot write GITHUB_STEP_SUMMARY: {error.strerror}") from None

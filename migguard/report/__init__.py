"""The only map from format name to renderer. Renderers are pure: render(report) -> str."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from migguard.core.findings import Report

FORMAT_NAMES = ("text", "json", "sarif", "github", "markdown")


def renderer(name: str) -> Callable[[Report], str]:
    """The render function of a format (imported on use, so `--version` stays fast)."""
    if name not in FORMAT_NAMES:
        raise KeyError(name)
    return import_module(f"migguard.report.{name}").render

"""The templates a migration starts from: their names, and the header line that names one.

`migguard new` writes the header as the first line of every file; lint's
missing-template-header rule looks for it. Both read it here.
"""

from __future__ import annotations

import re

TEMPLATES = ("feature", "seed")
HEADER = re.compile(r"^--\s*migguard:template\s+(?P<name>[A-Za-z0-9_-]+)\s*$", re.IGNORECASE)


def template_header(text: str) -> str | None:
    """The template a file's first non-blank line names (`-- migguard:template feature`), else None."""
    for line in text.splitlines():
        if line.strip():
            match = HEADER.match(line.strip())
            return match["name"].lower() if match else None
    return None

"""A project's files: `migguard init` and `migguard new`."""

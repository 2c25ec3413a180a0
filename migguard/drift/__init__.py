"""Production against the files: `migguard status` and `migguard diff`."""

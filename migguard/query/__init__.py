"""`migguard query`: read-only, tenant-scoped inspection of production."""

"""migguard: a PostgreSQL migration safety gatekeeper for multi-tenant SaaS."""

__version__ = "0.1.0"

"""Reading migrations: statements with exact positions, parsed by sqlglot and PostgreSQL's grammar."""

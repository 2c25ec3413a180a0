"""PostgreSQL: connections, clusters, the shadow, pg_dump/pg_restore, introspection, the history table."""

"""`migguard plan`: prove pending migrations on a shadow clone (pre-checks, lock trace, watched queries)."""

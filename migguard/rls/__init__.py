"""Row level security: the catalog audit, the two-tenant probe, `migguard rls check`, their findings' docs."""

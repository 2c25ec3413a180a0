-- migguard:template feature
-- Tenants are the root of isolation: every other table carries tenant_id.
-- gen_random_uuid() is built in since PostgreSQL 13.
SET lock_timeout = '2s';

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (char_length(slug) <= 63),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The application role: never the owner, never BYPASSRLS.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_user') THEN
        CREATE ROLE app_user NOLOGIN;
    END IF;
END
$$;

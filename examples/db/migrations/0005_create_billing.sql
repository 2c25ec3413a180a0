-- migguard:template feature
SET lock_timeout = '2s';

CREATE TABLE invoices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    booking_id    bigint,
    number        text NOT NULL,
    amount_cents  bigint NOT NULL CHECK (amount_cents >= 0),
    issued_at     timestamptz NOT NULL DEFAULT now(),
    legacy_ref    text,
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, booking_id) REFERENCES bookings (tenant_id, id)
);

CREATE TABLE tenant_addons (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    addon       text NOT NULL,
    state       text NOT NULL CHECK (state IN ('active', 'trial', 'grace', 'expired', 'not_installed', 'cancelled')),
    expires_at  timestamptz,
    PRIMARY KEY (tenant_id, addon)
);

CREATE TABLE subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    plan        text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz
);

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);

ALTER TABLE tenant_addons ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_addons FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_addons
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON subscriptions
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON invoices, tenant_addons, subscriptions TO app_user;

-- migguard:template feature
-- 0009 as the hints say: bigint identity, NOT NULL tenant, timestamptz, a tenant-scoped foreign
-- key, and row level security enabled, forced and keyed on the tenant setting.
SET lock_timeout = '2s';

CREATE TABLE payouts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    amount_cents  bigint NOT NULL CHECK (amount_cents >= 0),
    paid_at       timestamptz
);
CREATE INDEX payouts_tenant_id_idx ON payouts (tenant_id);

ALTER TABLE payouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE payouts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payouts
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON payouts TO app_user;

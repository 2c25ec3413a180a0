-- migguard:template feature
-- Pending, breaks tenant isolation: a tenant table with no RLS and a nullable tenant column.
SET lock_timeout = '2s';

CREATE TABLE payouts (
    id            serial PRIMARY KEY,
    tenant_id     uuid REFERENCES tenants (id),
    amount_cents  bigint NOT NULL,
    paid_at       timestamp
);

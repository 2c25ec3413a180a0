-- migguard:template feature
-- Pending, destructive: refused unless --allow-destructive.
SET lock_timeout = '2s';

ALTER TABLE invoices DROP COLUMN legacy_ref;
ALTER TABLE subscriptions RENAME COLUMN plan TO plan_code;

-- migguard:template feature
-- 0007 as the hints say: a nullable column is a catalog-only change. The backfill runs in
-- batches outside this migration, and NOT NULL comes later through a validated CHECK.
SET lock_timeout = '2s';

ALTER TABLE invoices ADD COLUMN due_on date;

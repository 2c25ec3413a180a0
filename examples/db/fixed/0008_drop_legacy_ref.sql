-- migguard:template feature
-- 0008 as the hints say: the column has been unread since release 2024.06; apply keeps a backup.
-- The rename is gone: plan_code will be added, written by both releases, then plan dropped.
SET lock_timeout = '2s';

-- migguard:ignore ban-drop-column -- legacy_ref unread since release 2024.06, backup taken by apply
ALTER TABLE invoices DROP COLUMN legacy_ref;

-- migguard:template feature
-- Pending, and safe: a nullable column with no default is a catalog-only change.
SET lock_timeout = '2s';

ALTER TABLE bookings ADD COLUMN notes text;

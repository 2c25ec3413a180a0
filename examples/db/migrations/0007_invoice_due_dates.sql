-- migguard:template feature
-- Pending, with lock hazards: each statement below blocks production traffic.
ALTER TABLE invoices ADD COLUMN due_on date NOT NULL;
CREATE INDEX invoices_due_on_idx ON invoices (due_on);
ALTER TABLE invoices ADD CONSTRAINT invoices_booking_fk FOREIGN KEY (booking_id) REFERENCES bookings (id);
UPDATE invoices SET due_on = issued_at::date + 30;

-- migguard:template feature
-- {{name}}: say in one line what this migration changes and why.
--
-- migguard applies this file in one transaction, with lock_timeout and statement_timeout from
-- migguard.toml, and retries it when the lock timeout fires. The SET below keeps that guard when
-- another tool runs the file. Below it, a safe pattern for each common change, commented out:
-- uncomment the one you need (remove the leading "--"), adapt the names, delete the rest.
-- Keep one kind of change per migration; `migguard lint` and `migguard plan` check the result.

SET lock_timeout = '{{lock_timeout}}';

-- == Add a column ==========================================================================
-- Nullable, or with a constant DEFAULT: a catalog-only change, no table rewrite. Never a
-- volatile DEFAULT (now(), random()) on a big table; backfill in batches in a later migration.
--  ALTER TABLE invoices ADD COLUMN due_on date;

-- == Add an index ==========================================================================
-- CONCURRENTLY builds the index without blocking writes, but PostgreSQL refuses it inside a
-- transaction: a file that contains CONCURRENTLY runs statement by statement, outside a
-- transaction. Put it in a migration of its own, with IF NOT EXISTS so a retry is safe.
--  CREATE INDEX CONCURRENTLY IF NOT EXISTS invoices_{{tenant_column}}_due_on_idx
--      ON invoices ({{tenant_column}}, due_on);

-- == Add a foreign key or CHECK constraint ================================================
-- NOT VALID takes a brief lock and checks only new rows; VALIDATE then scans the table under a
-- lock that lets reads and writes go on. VALIDATE in a later migration, not in this transaction.
--  ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk
--      FOREIGN KEY ({{tenant_column}}, customer_id) REFERENCES customers ({{tenant_column}}, id) NOT VALID;
-- Next migration:
--  ALTER TABLE invoices VALIDATE CONSTRAINT invoices_customer_fk;

-- == Make a column NOT NULL ================================================================
-- SET NOT NULL alone scans the whole table under an ACCESS EXCLUSIVE lock. Prove it first with
-- a validated CHECK (PostgreSQL 12+ then skips the scan), in two migrations. Keep SET NOT NULL a
-- statement of its own: combined with other actions in one ALTER TABLE, the scan comes back.
--  ALTER TABLE invoices ADD CONSTRAINT invoices_due_on_not_null CHECK (due_on IS NOT NULL) NOT VALID;
-- Next migration:
--  ALTER TABLE invoices VALIDATE CONSTRAINT invoices_due_on_not_null;
--  ALTER TABLE invoices ALTER COLUMN due_on SET NOT NULL;
-- Later, optionally (the CHECK is redundant now):
--  ALTER TABLE invoices DROP CONSTRAINT invoices_due_on_not_null;

-- == Create a tenant table =================================================================
-- Every multi-tenant table has row level security ENABLEd and FORCEd (the owner too) and a
-- policy that admits only the current tenant's rows, for reads (USING) and writes (WITH CHECK).
--  CREATE TABLE payouts (
--      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
--      {{tenant_column}} uuid NOT NULL REFERENCES tenants (id),
--      amount_cents bigint NOT NULL,
--      created_at timestamptz NOT NULL DEFAULT now()
--  );
--  CREATE INDEX payouts_{{tenant_column}}_idx ON payouts ({{tenant_column}});
--  ALTER TABLE payouts ENABLE ROW LEVEL SECURITY;
--  ALTER TABLE payouts FORCE ROW LEVEL SECURITY;
--  CREATE POLICY tenant_isolation ON payouts
--      USING ({{tenant_column}} = current_setting('{{tenant_setting}}')::uuid)
--      WITH CHECK ({{tenant_column}} = current_setting('{{tenant_setting}}')::uuid);

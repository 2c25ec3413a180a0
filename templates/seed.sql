-- migguard:template seed
-- {{name}}: say in one line what data this seeds, and for which tenant.
--
-- A seed is idempotent and tenant-scoped. The first statement sets {{tenant_setting}} for this
-- transaction only, so the tables' row level security policies admit the rows, and every row
-- takes {{tenant_column}} from it. ON CONFLICT DO NOTHING on a unique key that starts with
-- {{tenant_column}} makes a second run a no-op that never touches another tenant's rows. No
-- UPDATE, DELETE or TRUNCATE: a seed only adds what is missing.
-- Uncomment the statements (remove the leading "--") and adapt the tenant, table and values.

SET lock_timeout = '{{lock_timeout}}';

--  SELECT set_config('{{tenant_setting}}', '00000000-0000-0000-0000-000000000000', true);
--
--  INSERT INTO plans ({{tenant_column}}, code, name, monthly_price_cents)
--  VALUES (current_setting('{{tenant_setting}}')::uuid, 'basic', 'Basic', 900),
--         (current_setting('{{tenant_setting}}')::uuid, 'pro', 'Pro', 2900)
--  ON CONFLICT ({{tenant_column}}, code) DO NOTHING;

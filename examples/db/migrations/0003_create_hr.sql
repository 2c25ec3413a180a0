-- migguard:template feature
SET lock_timeout = '2s';

CREATE TABLE hr_departments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);

CREATE TABLE hr_employees (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    department_id  bigint,
    user_id        bigint,
    title          text NOT NULL,
    hired_on       date NOT NULL,
    salary_cents   bigint NOT NULL CHECK (salary_cents >= 0),
    -- foreign keys carry tenant_id: a row can only point at its own tenant's rows
    FOREIGN KEY (tenant_id, department_id) REFERENCES hr_departments (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX hr_employees_tenant_id_idx ON hr_employees (tenant_id);

ALTER TABLE hr_departments ENABLE ROW LEVEL SECURITY;
ALTER TABLE hr_departments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON hr_departments
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);

ALTER TABLE hr_employees ENABLE ROW LEVEL SECURITY;
ALTER TABLE hr_employees FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON hr_employees
    USING (tenant_id = current_setting('app.tenant_id')::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON hr_departments, hr_employees TO app_user;

// HR routes of the example store (Express + Drizzle ORM). Mounted under /api/hr behind
// requireTenantContext, which sets req.tenantId; every query on a tenant table must use it.
import { Router } from "express";
import { and, eq } from "drizzle-orm";
import { db } from "../db";
import { hrEmployees } from "../schema";

export const router = Router();

// Safe: the id lookup is scoped to the caller's tenant.
router.get("/employees/:id", async (req, res) => {
  const [employee] = await db
    .select()
    .from(hrEmployees)
    .where(and(eq(hrEmployees.id, Number(req.params.id)), eq(hrEmployees.tenantId, req.tenantId)))
    .limit(1);
  if (!employee) return res.status(404).json({ error: "RESOURCE_NOT_FOUND", message: "Resource not found" });
  res.json(employee);
});

// UNSAFE: any tenant reads any employee's salary by guessing ids.
router.get("/employees/:id/salary", async (req, res) => {
  const [row] = await db
    .select({ salaryCents: hrEmployees.salaryCents })
    .from(hrEmployees)
    .where(eq(hrEmployees.id, Number(req.params.id)));
  res.json(row ?? null);
});

// Safe: relational query with the tenant in its filter.
router.get("/employees", async (req, res) => {
  const rows = await db.query.hrEmployees.findMany({
    where: eq(hrEmployees.tenantId, req.tenantId),
    orderBy: (e, { asc }) => [asc(e.hiredOn)],
  });
  res.json(rows);
});

// UNSAFE: findFirst by user id alone returns another tenant's employee record.
router.get("/employees/by-user/:userId", async (req, res) => {
  const employee = await db.query.hrEmployees.findFirst({
    where: eq(hrEmployees.userId, Number(req.params.userId)),
  });
  res.json(employee ?? null);
});

// Safe: the delete is scoped to the tenant (an Express router.delete is not a table delete).
router.delete("/employees/:id", async (req, res) => {
  await db
    .delete(hrEmployees)
    .where(and(eq(hrEmployees.id, Number(req.params.id)), eq(hrEmployees.tenantId, req.tenantId)));
  res.status(204).end();
});

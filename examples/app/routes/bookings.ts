// Booking routes (Express + Drizzle ORM), mounted behind requireTenantContext.
import { Router } from "express";
import { and, eq, sql } from "drizzle-orm";
import { db } from "../db";
import { bookings } from "../schema";

export const router = Router();

// UNSAFE: deletes by id alone; any tenant can cancel another tenant's booking.
router.delete("/bookings/:id", async (req, res) => {
  await db.delete(bookings).where(eq(bookings.id, Number(req.params.id)));
  res.status(204).end();
});

// Confirm: fetched with tenantId scoping first, then updated by primary key
// (allowlisted in examples/.migguard-allow, as POLICY.md's "When to allowlist" item 1 allows).
router.post("/bookings/:id/confirm", async (req, res) => {
  const booking = await db.query.bookings.findFirst({
    where: and(eq(bookings.id, Number(req.params.id)), eq(bookings.tenantId, req.tenantId)),
  });
  if (!booking) return res.status(404).json({ error: "RESOURCE_NOT_FOUND", message: "Resource not found" });
  await db.update(bookings).set({ status: "confirmed" }).where(eq(bookings.id, booking.id));
  res.json({ ...booking, status: "confirmed" });
});

// Safe: raw SQL through Drizzle's sql template, tenant column interpolated from the table object.
export async function upcoming(tenantId: string) {
  return db.execute(sql`
    SELECT id, starts_at FROM ${bookings}
    WHERE ${bookings.tenantId} = ${tenantId} AND starts_at > now()
    ORDER BY starts_at`);
}

// UNSAFE: the same report without the tenant: every tenant's bookings.
export async function busiestDays() {
  return db.execute(sql`SELECT starts_at::date AS day, count(*) FROM ${bookings} GROUP BY 1 ORDER BY 2 DESC`);
}

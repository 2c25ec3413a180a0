// Super-admin routes (/api/super-admin/*): platform operators only, behind requireSuperAdmin.
// Deleting across tenants is their job, so .delete() without tenantId is allowed here.
import { Router } from "express";
import { eq } from "drizzle-orm";
import { db } from "../db";
import { bookings, tenantAddons } from "../schema";
import { requireSuperAdmin } from "../middleware/guards";

export const router = Router();
router.use(requireSuperAdmin);

// Allowed: a platform operator removes a booking reported as fraud, whatever its tenant.
router.delete("/bookings/:id", async (req, res) => {
  await db.delete(bookings).where(eq(bookings.id, Number(req.params.id)));
  res.status(204).end();
});

// Allowed: purge an add-on row by tenant (the admin names the tenant explicitly).
router.delete("/tenants/:tenantId/addons/:addon", async (req, res) => {
  await db.delete(tenantAddons).where(eq(tenantAddons.tenantId, req.params.tenantId));
  res.status(204).end();
});

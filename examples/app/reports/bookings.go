// Package reports builds the dashboard's booking reports (database/sql, pgx driver).
package reports

import (
	"context"
	"database/sql"
)

// Safe: bookings filtered by tenant, services tied to the same tenant.
const upcomingBookings = `
SELECT b.id, b.starts_at, s.name
FROM bookings b
JOIN services s ON s.id = b.service_id AND s.tenant_id = b.tenant_id
WHERE b.tenant_id = $1 AND b.starts_at > now()
ORDER BY b.starts_at`

func Upcoming(ctx context.Context, db *sql.DB, tenantID string) (*sql.Rows, error) {
	return db.QueryContext(ctx, upcomingBookings, tenantID)
}

// UNSAFE: counts every tenant's bookings with that status.
func CountByStatus(ctx context.Context, db *sql.DB, status string) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM bookings "+
		"WHERE status = $1", status).Scan(&n)
	return n, err
}

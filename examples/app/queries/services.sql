-- sqlc queries for the services catalog.

-- name: ListServices :many
SELECT id, name, duration_min, price_cents
FROM services
WHERE tenant_id = $1
ORDER BY name;

-- name: UpdateServicePrice :exec
UPDATE services SET price_cents = $2 WHERE id = $1;

"""Invoice queries (psycopg 3, raw SQL). Parameters are always bound, never formatted in.

Every function gets the caller's tenant id from the request context; a query that forgets it
is what `migguard scan-app` reports. For example, SELECT * FROM invoices in this docstring is
documentation, not a query, and is not scanned.
"""

INVOICE_BY_NUMBER = """
    SELECT id, number, amount_cents, issued_at
    FROM invoices
    WHERE tenant_id = %(tenant_id)s AND number = %(number)s
"""


def invoice_by_number(conn, tenant_id, number):
    # Safe: tenant in the WHERE clause.
    return conn.execute(INVOICE_BY_NUMBER, {"tenant_id": tenant_id, "number": number}).fetchone()


def invoice_with_booking(conn, tenant_id, invoice_id):
    # Safe: the join is tied by tenant_id, and the invoice is filtered by it.
    return conn.execute(
        "SELECT i.number, b.starts_at FROM invoices i "
        "JOIN bookings b ON b.id = i.booking_id AND b.tenant_id = i.tenant_id "
        "WHERE i.tenant_id = %s AND i.id = %s",
        (tenant_id, invoice_id),
    ).fetchone()


def invoices_for_booking(conn, tenant_id, booking_id):
    # UNSAFE: bookings is joined by id only, so a booking id of another tenant matches.
    return conn.execute(
        "SELECT i.number, b.starts_at FROM invoices i JOIN bookings b ON b.id = i.booking_id "
        "WHERE i.tenant_id = %s AND b.id = %s",
        (tenant_id, booking_id),
    ).fetchall()


def void_invoice(conn, invoice_id):
    # UNSAFE: deletes by id alone.
    conn.execute("DELETE FROM invoices WHERE id = %s", (invoice_id,))


def create_invoice(conn, tenant_id, booking_id, number, amount_cents):
    # Safe: the row carries the tenant.
    conn.execute(
        "INSERT INTO invoices (tenant_id, booking_id, number, amount_cents) VALUES (%s, %s, %s, %s)",
        (tenant_id, booking_id, number, amount_cents),
    )


def import_invoice(conn, booking_id, number, amount_cents):
    # UNSAFE: no tenant_id in the column list.
    conn.execute(
        f"""INSERT INTO invoices (booking_id, number, amount_cents)
            VALUES (%s, %s, {int(amount_cents)})""",
        (booking_id, number),
    )


def prompt():
    # Not SQL: UI text that happens to start with a keyword is skipped (it does not parse).
    return "Select the invoices to export, then press Export."

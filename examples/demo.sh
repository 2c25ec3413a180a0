#!/usr/bin/env bash
# `make demo`: migguard's main job on the bundled example SaaS store (examples/).
# Each step states the exit code it expects; the demo fails if one differs.
set -u
cd "$(dirname "$0")"

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
trap 'python demo_production.py stop >/dev/null 2>&1' EXIT

step "migguard lint: the example history (clean) and its pending migrations (each shows a kind of finding)"
expect 1 migguard lint --no-cache

step "migguard lint of the clean history only: the gate passes"
expect 0 migguard lint --no-cache db/migrations/0001_create_tenants.sql db/migrations/0002_create_users.sql \
    db/migrations/0003_create_hr.sql db/migrations/0004_create_services_bookings.sql \
    db/migrations/0005_create_billing.sql db/migrations/0006_add_booking_notes.sql

step "the destructive migration with --allow-destructive: refused findings become warnings"
expect 0 migguard lint --no-cache --allow-destructive db/migrations/0008_drop_legacy_ref.sql

step "the same gate for CI, as GitHub annotations"
expect 1 migguard lint --no-cache --format github db/migrations/0009_create_payouts.sql

step "an embedded production: PostgreSQL started by migguard, 6 migrations applied, 2 tenants of data"
python demo_production.py start || exit 1

step "migguard status: what production has applied, what is pending, and drift"
expect 0 migguard status

step "migguard plan: replay, clone production, pre-check its data, trace locks, diff, verify the rollback"
echo "(the lint step is limited to the destructive family here; its findings were shown above)"
expect 1 migguard plan --continue-on-error --allow-destructive --select destructive

step "the plan on disk"
ls .migguard/plans/*/
echo "--- rollback.sql (head)"
head -n 12 "$(ls -d .migguard/plans/*/ | tail -n 1)rollback.sql"

echo
echo "demo: every step exited as documented."

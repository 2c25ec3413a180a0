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

echo
echo "demo: every step exited as documented."

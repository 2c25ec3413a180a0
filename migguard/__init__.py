"""migguard: a PostgreSQL migration safety gatekeeper for multi-tenant SaaS."""

__version__ = "0.1.0"

# The capabilities that document finding ids ("module:attribute", a `FindingProvider`): the lint
# rules, the database steps (RLS audit and probe; plan) and scan-app. `migguard.core.finding_ids`
# imports them on its first lookup, so that core never imports them itself.
FINDING_PROVIDERS = (
    "migguard.lint.rules:FINDINGS",
    "migguard.rls.findings:FINDINGS",
    "migguard.plan.findings:FINDINGS",
    "migguard.scan.findings:FINDINGS",
)

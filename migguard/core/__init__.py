"""What every capability shares: errors and exit codes, redaction, config, findings, migration sources, the audit log, lock names."""

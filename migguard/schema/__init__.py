"""The schema model and the pure diff between two models (no I/O)."""

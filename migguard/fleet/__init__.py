"""Fleets: one change, many databases (SPEC section 11)."""

"""`migguard baseline`: adopt an existing production (see command.py)."""

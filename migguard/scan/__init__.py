"""`migguard scan-app`: the tenant-isolation lint of application code, and its findings' docs."""

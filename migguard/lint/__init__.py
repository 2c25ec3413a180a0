"""`migguard lint`: the engine, what a rule is and can know, and one file per rule in rules/."""

"""Facts several rules read from the statements: columns, DDL effects, DML reach."""

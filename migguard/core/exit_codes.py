"""The only place exit numbers live; values and meanings are SPEC section 9."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success; the gate passes
    GATE_REFUSED = 1  # findings at failing severity, drift, RLS failure, plan mismatch
    USAGE = 2  # usage, input or configuration error
    DATABASE = 3  # a database operation failed
    REFUSED_LIVE = 4  # refused to run live
    INTERNAL = 5  # a defect in migguard (the message says so and asks for --debug output)

"""The audit trail: who did or read what, when, from where, with what outcome."""

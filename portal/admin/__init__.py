"""Administration: the audit log, accounts and clinic settings."""

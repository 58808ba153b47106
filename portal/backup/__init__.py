"""Backups: `pg_dump -Fc` of the database and the files kept beside it (attachments, the audit
checkpoint), encrypted with the data keys, with a sealed manifest of sha256s
(portal.backup.archive); restore into an empty database; and the check that a restored
portal is whole (portal.backup.check). The commands are in portal/cli/backup.py."""

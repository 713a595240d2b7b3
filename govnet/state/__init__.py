"""govnet's state: runs, per-unit results, backups and the audit trail, in one SQLite file."""

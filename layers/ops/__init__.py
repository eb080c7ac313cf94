"""The operations centre's domain: backups on disk, users' feedback and its triage."""

"""The audit trail (who did what, tamper-evident) and the ordered event log."""

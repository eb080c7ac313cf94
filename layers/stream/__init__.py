"""The event log read back: who sees which event, pages of it, the city as it was."""

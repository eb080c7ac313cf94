"""Feature layers: the ORM models, the registry that describes them, the write door."""

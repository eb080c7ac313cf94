"""Users, roles, server-side sessions and the jurisdiction scope of an actor."""

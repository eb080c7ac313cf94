"""Geofence alerts: a vehicle or an incident entering or leaving a ring of a perimeter in force.

``models`` (states and alerts), ``machine`` (hysteresis: margin and dwell), ``bands``
(the rings in force, grown and shrunk by the margin), ``follow`` (points through the
machine, alerts and events), ``incidents`` (the incidents layer's follower), ``alerts``
(listing and acknowledging).
"""

"""Security perimeters (安保圈层): nested rings drawn for an event, what lies in each, actions.

``models`` (tables), ``rings`` (drawing and checking a ring), ``service`` (the one door:
create, edit, delete, versions), ``contents`` (what each ring holds), ``actions`` (tasks
and notices for what a ring or a selection holds), ``active`` (the rings in force at a
time, for geofencing).
"""

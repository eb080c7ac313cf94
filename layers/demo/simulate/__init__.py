"""The alive demo: ``warroom simulate`` keeps the demo city moving.

Each kind of motion is one small module here that registers a ``Motion`` (see
``registry``): ``incidents`` (reported, handled, closed), ``tasks`` (drafted for a unit,
walked through the task workflow), ``hazards`` (found, rectified, verified),
``vehicles`` (a fleet driving the roads, posting GPS batches that fire the geofence),
``visitors`` (park gates counting a holiday) and ``stations`` (its crowds leaving the
rail stations near the parks).
Every write goes through the app's own doors as the role that may make it
(``actors``): audited, announced on the event stream, refused like a person's.

To add a kind of motion (park visitor counts, say): write
``layers/demo/simulate/<kind>.py`` with a function ``(session, world) -> Outcome`` and
``register(Motion("<kind>.<what>", weight, function, "help"))``, and import the module
below. ``warroom simulate --only`` lists the names; the weights set how often each is
drawn.
"""

from __future__ import annotations

from layers.demo.simulate import hazards, incidents, stations, tasks, vehicles, visitors
from layers.demo.simulate.registry import MOTIONS, Motion, NothingToDo, Outcome, World, register
from layers.demo.simulate.run import Report, Simulation

__all__ = [
    "MOTIONS",
    "Motion",
    "NothingToDo",
    "Outcome",
    "Report",
    "Simulation",
    "World",
    "hazards",
    "incidents",
    "register",
    "stations",
    "tasks",
    "vehicles",
    "visitors",
]

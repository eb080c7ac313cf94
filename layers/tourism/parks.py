"""Parks as the tourism team sees them: which it may see, their alert levels, the local day.

Everything of tourism hangs off a park, so one rule decides who sees it: whoever may see
the park (``Actor.scope`` on the park feature). Levels are a park's own
(``park_levels``) or the settings' defaults (LB/T 068-2017, LB/T 034-2014).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput, PreconditionRequired, VersionConflict
from layers.features.models import Park
from layers.features.registry import get_layer
from layers.features.service import get_feature
from layers.settings import TourismSettings
from layers.tourism.models import ParkLevels

PARKS = get_layer("parks")


@dataclass(frozen=True)
class Levels:
    """Thresholds in percent of capacity: yellow, orange, red, stop ticket sales."""

    yellow: int
    orange: int
    red: int
    stop: int
    version: int = 0  # 0: the defaults, no row of the park's own yet

    def thresholds(self) -> tuple[int, int, int, int]:
        """Return the thresholds from yellow up."""
        return self.yellow, self.orange, self.red, self.stop


@dataclass(frozen=True)
class ParkInfo:
    """What occupancy and alerts read of a park: no outline (reading it costs more than
    everything else they do)."""

    id: int
    name: str
    kind: str | None
    grade: str | None
    capacity: int
    daily_capacity: int | None


PARK_INFO = (Park.id, Park.name, Park.kind, Park.grade, Park.capacity, Park.daily_capacity)


def default_levels(settings: TourismSettings) -> Levels:
    """Return the levels every park has until it is given its own."""
    return Levels(settings.yellow_pct, settings.orange_pct, settings.red_pct, settings.stop_pct)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    """Return the local day an instant counts towards (occupancy resets at local midnight)."""
    return instant.astimezone(zone).date()


def visible_park(session: Session, park_id: int, actor: Actor) -> Park:
    """Return the park if the actor may see it, or raise ``NotFound``."""
    park = get_feature(session=session, spec=PARKS, feature_id=park_id, actor=actor)
    assert isinstance(park, Park)
    return park


def levels_of(session: Session, park_ids: list[int], settings: TourismSettings
              ) -> dict[int, Levels]:  # fmt: skip
    """Return the levels of each park (its own, else the defaults)."""
    own = {
        row.park_id: Levels(row.yellow, row.orange, row.red, row.stop, row.version)
        for row in session.scalars(select(ParkLevels).where(ParkLevels.park_id.in_(park_ids)))
    }
    fallback = default_levels(settings)
    return {park_id: own.get(park_id, fallback) for park_id in park_ids}


def set_levels(
    *, session: Session, park_id: int, levels: Levels, expected_version: int | None,
    actor: Actor,
) -> Levels:  # fmt: skip
    """Give a park levels of its own if ``expected_version`` is current (0: the defaults)."""
    with audited_denials(session, actor, "parks.levels", "parks", park_id):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, park_id, actor)
    if expected_version is None:
        raise PreconditionRequired("writes need the version they replace (If-Match header)")
    if not levels.yellow < levels.orange < levels.red < levels.stop <= 200:
        raise InvalidInput("levels must rise: 0 < yellow < orange < red < stop <= 200 (%)")
    current = session.scalar(
        select(ParkLevels).where(ParkLevels.park_id == park.id).with_for_update()
    )
    version = current.version if current else 0
    if version != expected_version:
        raise VersionConflict(f"the levels of park {park_id} are at version {version}, not "
                              f"{expected_version}", current_version=version)  # fmt: skip
    values = {"yellow": levels.yellow, "orange": levels.orange, "red": levels.red,
              "stop": levels.stop, "version": version + 1}  # fmt: skip
    upsert = insert(ParkLevels).values(park_id=park.id, **values)
    session.execute(upsert.on_conflict_do_update(index_elements=["park_id"], set_=values))
    record_audit(session, actor=actor, action="parks.levels", target_type="parks",
                 target_id=park.id, after=values)  # fmt: skip
    return Levels(levels.yellow, levels.orange, levels.red, levels.stop, version + 1)

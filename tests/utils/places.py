"""Places of the demo city that tests can count on."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.features.models import Precinct, Unit


def precincts_with_units(session: Session, at_least: int = 3) -> list[Precinct]:
    """Return the precincts holding at least ``at_least`` units, by id."""
    busy = (
        select(Unit.precinct_id).where(Unit.precinct_id.is_not(None))
        .group_by(Unit.precinct_id).having(func.count() >= at_least)
    )  # fmt: skip
    return list(
        session.scalars(select(Precinct).where(Precinct.id.in_(busy)).order_by(Precinct.id))
    )

"""The city at a past instant of the replay window, for scrubbing back on the wall."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.access import FEATURE_READERS
from api.deps import BBoxDep, CurrentActor, SessionDep, SettingsDep
from api.routes.events import local_instant
from api.schemas.state import (
    IncidentThen,
    PointCollection,
    PointFeature,
    PointGeometry,
    RecordThen,
    StatePublic,
    VehicleThen,
)
from layers.accounts.roles import Permission
from layers.errors import InvalidInput
from layers.records.catalog import KINDS
from layers.records.kinds import RecordKind
from layers.stream.reading import require_reader
from layers.stream.state import incidents_at, open_records_at, vehicles_at
from layers.stream.window import check_instant

router = APIRouter(prefix="/api/state", tags=["events"], dependencies=[Depends(FEATURE_READERS)])
P = TypeVar("P", bound=BaseModel)
# kinds whose records open and close (a notice or a form never "is open")
OPENING_KINDS = {kind_id: kind for kind_id, kind in KINDS.items() if kind.workflow.closed}


def opening_kinds(text: str | None) -> list[RecordKind]:
    """Return the record kinds of a comma-separated list (default: every kind that closes)."""
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in OPENING_KINDS]
    if unknown:
        raise InvalidInput(f"kinds: {unknown[0][:40]!r} is not a kind whose records open and "
                           f"close; use {', '.join(OPENING_KINDS)}")  # fmt: skip
    return [OPENING_KINDS[name] for name in names] or list(OPENING_KINDS.values())


def _collection(
    items: Sequence[Any], limit: int, properties: Callable[..., P]
) -> PointCollection[P]:
    features = []
    for item in items[:limit]:
        values = asdict(item)
        ident, lon, lat = values.pop("id"), values.pop("lon"), values.pop("lat")
        features.append(PointFeature[P](id=ident, geometry=PointGeometry.at(lon, lat),
                                        properties=properties(**values)))  # fmt: skip
    return PointCollection[P](features=features, truncated=len(items) > limit)


@router.get("")
def read_state(
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    bbox: BBoxDep,
    at: Annotated[datetime, Query(description="RFC 3339 (without an offset: local), within "
                                              "the replay window")],
    kinds: Annotated[str | None, Query(max_length=500, description="record kinds, "
                                       "comma-separated; default: every kind that closes")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="features per collection")] = 5_000,
) -> StatePublic:  # fmt: skip
    """Return what was open and where at an instant: records, the day's incidents, vehicles."""
    require_reader(actor)
    stream = settings.stream
    instant = check_instant(at=local_instant(at, settings), now=datetime.now(UTC),
                            window_hours=stream.window_hours)  # fmt: skip
    chosen = opening_kinds(kinds)
    records = (
        open_records_at(session=session, actor=actor, at=instant, kinds=chosen, bbox=bbox,
                        limit=limit + 1)
        if actor.can(Permission.RECORDS_READ) else []
    )  # fmt: skip
    incidents = incidents_at(
        session=session, actor=actor, at=instant, bbox=bbox, limit=limit + 1,
        since=instant - timedelta(hours=stream.window_hours),
    )  # fmt: skip
    vehicles = vehicles_at(session=session, actor=actor, at=instant, bbox=bbox, limit=limit + 1,
                           max_age_s=stream.position_max_age_s)  # fmt: skip
    return StatePublic(
        at=instant,
        records=_collection(records, limit, RecordThen),
        incidents=_collection(incidents, limit, IncidentThen),
        vehicles=_collection(vehicles, limit, VehicleThen),
    )

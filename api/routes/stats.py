"""Statistics of records: counts by topic, kind, state, place and day; overdue; weekly
hazards; results of topic cases. Each over what the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.access import RECORD_READERS
from api.deps import CurrentActor, SessionDep, SettingsDep
from api.schemas.values import Instant
from layers.errors import InvalidInput
from layers.records.catalog import KINDS, get_kind
from layers.records.stats import (
    GROUPS,
    count_overdue,
    count_records,
    hazards_by_week,
    open_hazards_by_level,
    results_by_topic,
)

router = APIRouter(prefix="/api/stats", tags=["stats"], dependencies=[Depends(RECORD_READERS)])
RESERVED = frozenset({"group_by", "since", "until"})


@router.get("/records")
def read_record_counts(
    request: Request, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    group_by: Annotated[str, Query(max_length=100)] = "state",
    since: Instant | None = None, until: Instant | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Return record counts ``?group_by=district,state`` (topic, kind, state, district,
    precinct, day), filtered by any of those (``?kind=task&topic=tourism``)."""
    where = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    unknown = sorted(set(where) - set(GROUPS))
    if unknown:
        raise InvalidInput(f"unknown filter {', '.join(unknown)}; use {', '.join(GROUPS)}")
    rows = count_records(
        session=session, actor=actor, group_by=[g.strip() for g in group_by.split(",")],
        zone=settings.timezone, where=where, since=since, until=until,
    )  # fmt: skip
    return {"data": rows, "total": sum(r["count"] for r in rows)}


@router.get("/overdue")
def read_overdue_counts(
    session: SessionDep, actor: CurrentActor, at: Instant | None = None
) -> dict[str, Any]:
    """Return, per kind, the open records past their due time (now, or ``?at=``)."""
    rows = count_overdue(session=session, actor=actor, kinds=list(KINDS.values()),
                         at=at or datetime.now(UTC))  # fmt: skip
    return {"data": rows, "total": sum(r["overdue"] for r in rows)}


@router.get("/hazards/weekly")
def read_hazards_by_week(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> dict[str, Any]:
    """Return hazards found and closed per ISO week (in the bureau's time zone)."""
    rows = hazards_by_week(session=session, actor=actor, hazard=get_kind("hazard"),
                           zone=settings.timezone)  # fmt: skip
    return {"data": rows}


@router.get("/hazards/open")
def read_open_hazards(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Return how many hazards are open at each level (1 minor .. 4 major)."""
    rows = open_hazards_by_level(session=session, actor=actor, hazard=get_kind("hazard"))
    return {"data": rows, "total": sum(r["open"] for r in rows)}


@router.get("/results")
def read_case_results(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Return the results of topic cases per topic: cases, people and value seized."""
    return {"data": results_by_topic(session=session, actor=actor, case=get_kind("case"))}

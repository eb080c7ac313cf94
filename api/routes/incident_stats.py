"""Incidents of today against yesterday, by hour and by district: the wall's comparison."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends

from api.access import FEATURE_READERS
from api.deps import CurrentActor, SessionDep, SettingsDep
from layers.features.incident_stats import incident_days

router = APIRouter(prefix="/api/stats", tags=["stats"])


@router.get("/incidents", dependencies=[Depends(FEATURE_READERS)])
def read_incident_days(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> dict[str, Any]:
    """Return today's incidents (the bureau's day) against yesterday's: totals, per hour of
    both days, and today's per district, most first."""
    days = incident_days(session=session, actor=actor, now=datetime.now(UTC), zone=settings.zone)
    return {
        "now": days.now, "today": days.today, "yesterday": days.yesterday,
        "yesterday_until_now": days.yesterday_until_now,
        "today_by_hour": days.today_by_hour, "yesterday_by_hour": days.yesterday_by_hour,
        "today_by_district": [
            {"district_id": d.district_id, "name": d.name, "count": d.count}
            for d in days.today_by_district
        ],
    }  # fmt: skip

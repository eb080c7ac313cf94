"""The ``datetime`` filter: a feature's time extent intersects it; a date is a local day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from layers.features.models import ConstructionSite, Incident

BUREAU = ZoneInfo("Asia/Shanghai")  # the default WARROOM_TIMEZONE
SITES = ("/ogc/collections/construction_sites/items", "/api/layers/construction_sites/features")
INCIDENTS = ("/ogc/collections/incidents/items", "/api/layers/incidents/features")


def _ids(client: TestClient, url: str, headers: dict[str, str], **params: str) -> set[int]:
    ids: list[int] = []
    next_url: str | None = url
    query: dict[str, str] | None = {**params, "limit": "500"}
    while next_url:
        response = client.get(next_url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [f["id"] for f in body["features"]]
        nexts = [k["href"] for k in body["links"] if k["rel"] == "next"]
        next_url, query = (nexts[0], None) if nexts else (None, None)
    assert len(ids) == len(set(ids))
    return set(ids)


def _sites(session_factory: sessionmaker[Session], first: date, last: date) -> set[int]:
    site = ConstructionSite
    with session_factory() as session:
        return set(session.scalars(select(site.id).where(
            or_(site.starts_on.is_(None), site.starts_on <= last),
            or_(site.ends_on.is_(None), site.ends_on >= first),
        )).all())  # fmt: skip


@pytest.fixture(scope="module")
def latest_start(session_factory: sessionmaker[Session]) -> date:
    """The day the last construction site starts: many others are under way that day."""
    with session_factory() as session:
        day = session.scalar(select(func.max(ConstructionSite.starts_on)))
    assert day is not None
    return day


@pytest.mark.parametrize("url", SITES)
def test_sites_under_way_on_a_day_are_found(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str],
    latest_start: date, url: str,
) -> None:  # fmt: skip
    day = latest_start
    expected = _sites(session_factory, day, day)
    assert len(expected) > 10
    assert _ids(client, url, admin, datetime=day.isoformat()) == expected
    assert _ids(client, url, admin, datetime=f"{day}T12:00:00+08:00") == expected


@pytest.mark.parametrize("url", SITES)
def test_sites_meeting_an_interval_are_found(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str],
    latest_start: date, url: str,
) -> None:  # fmt: skip
    first, last = latest_start + timedelta(days=200), latest_start + timedelta(days=230)
    expected = _sites(session_factory, first, last)
    assert 0 < len(expected) < len(_sites(session_factory, latest_start, latest_start))
    assert _ids(client, url, admin, datetime=f"{first}/{last}") == expected
    # 23:30 on the day before, Beijing time, is 15:30 UTC: the site days are Beijing days
    late = datetime.combine(first - timedelta(days=1), time(23, 30), BUREAU)
    stamp = late.astimezone(ZoneInfo("UTC")).isoformat()
    expected = _sites(session_factory, first - timedelta(days=1), date.max)
    assert _ids(client, url, admin, datetime=f"{stamp}/..") == expected


@pytest.mark.parametrize("url", INCIDENTS)
def test_a_date_is_that_whole_day_in_the_bureaus_time_zone(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str], url: str
) -> None:
    with session_factory() as session:
        middle = session.scalar(select(func.percentile_disc(0.5).within_group(
            Incident.occurred_at)))  # fmt: skip
        assert middle is not None
        day = middle.astimezone(BUREAU).date()
        start = datetime.combine(day, time.min, BUREAU)
        expected = set(session.scalars(select(Incident.id).where(
            Incident.occurred_at >= start,
            Incident.occurred_at < start + timedelta(days=1))).all())  # fmt: skip
    assert expected
    assert _ids(client, url, admin, datetime=day.isoformat()) == expected
    # a time without an offset is the bureau's too
    assert _ids(client, url, admin, datetime=f"{day}T00:00:00/{day}T23:59:59.999999") == expected


def test_collections_state_their_temporal_extent(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        starts, ends, open_started, open_ended = session.execute(
            select(func.min(ConstructionSite.starts_on), func.max(ConstructionSite.ends_on),
                   func.bool_or(ConstructionSite.starts_on.is_(None)),
                   func.bool_or(ConstructionSite.ends_on.is_(None)))
        ).one()  # fmt: skip
        first, last = session.execute(
            select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))
        ).one()  # fmt: skip

    def temporal(collection: str) -> Any:
        response = client.get(f"/ogc/collections/{collection}", headers=admin)
        assert response.status_code == 200, response.text
        return response.json()["extent"].get("temporal")

    sites = temporal("construction_sites")
    # a site without a start or an end (other tests add some) leaves the extent open there
    start = None if open_started else f"{starts}T00:00:00+08:00"
    end = None if open_ended else f"{ends}T23:59:59+08:00"
    assert sites["interval"] == [[start, end]]
    assert sites["trs"].endswith("/Gregorian")
    interval = temporal("incidents")["interval"][0]
    assert [datetime.fromisoformat(t) for t in interval] == [
        first.replace(microsecond=0), last.replace(microsecond=0)]  # fmt: skip
    assert temporal("units") is None
    listed = client.get("/ogc/collections", headers=admin).json()["collections"]
    assert next(c for c in listed if c["id"] == "construction_sites")["extent"]["temporal"] == sites

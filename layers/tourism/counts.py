"""The one door for counter batches: checks, storage once, rollups, alerts, audit.

A batch is taken whole or not at all: one bad reading (an unknown point, a time in the
future or beyond the retention, a count below zero or above the cap) refuses it with
every problem named, before anything is written. A reading is a point's visitors in and
out over the interval ending at its time; a resent reading (same point and time) is a
no-op, so a resent batch counts once. Readings may come late and in any order: each adds
to its own 5-minute bucket and local day, so the totals come out the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput, PayloadTooLarge
from layers.features.models import Park
from layers.partitions import DayPartitions, utc_day
from layers.settings import TourismSettings
from layers.tourism.alerts import weigh_parks
from layers.tourism.models import TourismPoint
from layers.tourism.parks import local_day
from layers.tracks.arrays import array_text

COUNTS = DayPartitions("visitor_counts", "SELECT make_day_partition('visitor_counts', :day)")
SHOWN_PROBLEMS = 20  # named in the answer; the count says how many more
BUCKET = timedelta(minutes=5)

# Stored once; what is new is rolled up into the park's bucket and local day, in park
# order (two batches of the same parks lock their rows in the same order).
_STORE = """
WITH stored AS (
    INSERT INTO visitor_counts (point_id, at, entered, exited)
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[]),
                         CAST(:ins AS integer[]), CAST(:outs AS integer[]))
    ON CONFLICT DO NOTHING
    RETURNING point_id, at, entered, exited
), counted AS (
    SELECT p.park_id, s.at, s.entered, s.exited
    FROM stored AS s JOIN tourism_points AS p ON p.id = s.point_id AND p.counts
), buckets AS (
    INSERT INTO park_buckets (park_id, bucket, entered, exited)
    SELECT park_id, date_bin(CAST(:bucket AS interval), at, TIMESTAMPTZ '2000-01-01Z'),
           sum(entered), sum(exited)
    FROM counted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (park_id, bucket) DO UPDATE
    SET entered = park_buckets.entered + excluded.entered,
        exited = park_buckets.exited + excluded.exited
    RETURNING 1
), days AS (
    INSERT INTO park_days (park_id, day, entered, exited)
    SELECT park_id, CAST(at AT TIME ZONE :zone AS date), sum(entered), sum(exited)
    FROM counted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (park_id, day) DO UPDATE
    SET entered = park_days.entered + excluded.entered,
        exited = park_days.exited + excluded.exited, updated_at = now()
    RETURNING park_id, day
)
SELECT (SELECT count(*) FROM stored) AS stored,
       (SELECT count(*) FROM buckets) AS buckets,
       ARRAY(SELECT DISTINCT park_id FROM days WHERE day = :today ORDER BY 1) AS today
"""


@dataclass(frozen=True)
class Reading:
    """One reading of a counter: its point's code, the end of its interval, in and out."""

    point: str
    at: datetime
    entered: int
    exited: int


@dataclass(frozen=True)
class CountReport:
    """What a batch did: readings received and newly stored (the rest were resent), the
    parks whose occupancy today changed, the alerts raised."""

    received: int
    stored: int
    parks: list[int]
    alert_ids: list[int]


def _named(reading: Reading, index: int, reason: str) -> str:
    return f"readings[{index}] (point {reading.point!r} at {reading.at.isoformat()}): {reason}"


def _problems(readings: Sequence[Reading], limits: TourismSettings, now: datetime) -> list[str]:
    """Return what is wrong with each refused reading, in batch order."""
    latest = now + timedelta(seconds=limits.clock_skew_s)
    earliest = now - timedelta(days=limits.retention_days)
    future = f"lies in the future (more than {limits.clock_skew_s:g} s ahead of the server)"
    old = f"is older than the retention of {limits.retention_days} days"
    found = []
    for index, r in enumerate(readings):
        if r.at > latest:
            found.append(_named(r, index, future))
        elif r.at < earliest:
            found.append(_named(r, index, old))
        for what, value in (("in", r.entered), ("out", r.exited)):
            if not 0 <= value <= limits.max_count:
                reason = f"{what} must be 0..{limits.max_count:,}, not {value}"
                found.append(_named(r, index, reason))
    return found


def check_batch(readings: Sequence[Reading], limits: TourismSettings, now: datetime) -> None:
    """Raise ``PayloadTooLarge`` or ``InvalidInput`` naming every refused reading, if any."""
    if len(readings) > limits.max_batch:
        raise PayloadTooLarge(f"a batch holds at most {limits.max_batch:,} readings, this one "
                              f"{len(readings):,}; send it in parts")  # fmt: skip
    if not readings:
        raise InvalidInput("the batch holds no readings")
    problems = _problems(readings, limits, now)
    if problems:
        named = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        raise InvalidInput(
            f"{len(problems)} of the {len(readings)} readings are refused and nothing was "
            f"saved: {named}", problems=problems[:SHOWN_PROBLEMS],
        )  # fmt: skip


def _points(session: Session, codes: set[str], actor: Actor) -> dict[str, int]:
    """Return the ids of the points named, among those of parks the actor may see."""
    rows = session.execute(
        select(TourismPoint.code, TourismPoint.id)
        .join(Park, Park.id == TourismPoint.park_id)
        .where(TourismPoint.code.in_(codes), actor.scope.clause(Park))
    )  # fmt: skip
    return dict(rows.all())


def ingest_counts(
    *, session: Session, readings: Sequence[Reading], actor: Actor, settings: TourismSettings,
    zone: ZoneInfo, now: datetime | None = None,
) -> CountReport:  # fmt: skip
    """Store a batch of readings whole or refuse it; roll it up; raise the alerts it causes."""
    with audited_denials(session, actor, "tourism.counts", "tourism", None):
        actor.require(Permission.TOURISM_WRITE)
    now = now or datetime.now(UTC)
    check_batch(readings, settings, now)
    ids = _points(session, {r.point for r in readings}, actor)
    unknown = sorted({r.point for r in readings} - set(ids))
    if unknown:
        shown = ", ".join(map(repr, unknown[:SHOWN_PROBLEMS]))
        raise InvalidInput(f"unknown points (no such point that you may see): {shown}; "
                           "nothing was saved", points=unknown[:SHOWN_PROBLEMS])  # fmt: skip
    COUNTS.ensure(session, {utc_day(r.at) for r in readings})
    # each column as one array-text parameter (layers.tracks.arrays says why)
    row = session.execute(text(_STORE), {
        "ids": array_text(ids[r.point] for r in readings),
        "ats": array_text(r.at for r in readings),
        "ins": array_text(r.entered for r in readings),
        "outs": array_text(r.exited for r in readings),
        "bucket": BUCKET, "zone": zone.key, "today": local_day(now, zone),
    }).one()  # fmt: skip
    parks = list(row.today)
    alerts = weigh_parks(session, parks, settings=settings, zone=zone, now=now, actor=actor)
    report = CountReport(len(readings), int(row.stored), parks, [a.id for a in alerts])
    record_audit(session, actor=actor, action="tourism.counts", target_type="tourism", after={
        **asdict(report), "from": min(r.at for r in readings).isoformat(),
        "to": max(r.at for r in readings).isoformat(),
    })  # fmt: skip
    return report

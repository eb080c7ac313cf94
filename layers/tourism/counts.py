"""The one door for counter batches: checks, storage once, rollups, alerts, audit.

A batch is taken whole or not at all: one bad reading (an unknown point, a time in the
future or beyond the retention, a count below zero or above the cap) refuses it with
every problem named, before anything is written. A reading is a point's visitors in and
out over the interval ending at its time; a resent reading (same point and time) is a
no-op, so a resent batch counts once. Readings may come late and in any order: each adds
to its own 5-minute bucket and local day, so the totals come out the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Text, any_, cast, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
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
UNIQUE_VIOLATION = "23505"
NO_PARTITION = "23514"  # no partition of the table holds the row

# The batch as rows: each distinct time is sent (and parsed) once, a reading names its own
# by position; four array-text parameters in all (layers.tracks.arrays says why).
BATCH_ROWS = """
SELECT n.point_id, (CAST(:times AS timestamptz[]))[n.t] AS at, n.entered, n.exited
FROM unnest(CAST(:ids AS bigint[]), CAST(:tix AS integer[]), CAST(:ins AS integer[]),
            CAST(:outs AS integer[])) AS n(point_id, t, entered, exited)
"""
# Stored once. The common case, readings never seen, is a plain insert of those whose key
# is not stored yet (the key's range prunes the partitions probed at planning); a reading
# twice in the batch, or stored by a concurrent batch meanwhile, breaks the key and the
# batch is stored again with ON CONFLICT DO NOTHING (a speculative insertion a row: ~40 %
# more of the server's time, measured), which keeps the first of each key.
_NEW = """
INSERT INTO visitor_counts (point_id, at, entered, exited)
SELECT b.* FROM batch AS b
WHERE NOT EXISTS (SELECT FROM visitor_counts AS v
                  WHERE v.point_id = b.point_id AND v.at = b.at
                    AND v.at >= CAST(:first AS timestamptz) AND v.at <= CAST(:last AS timestamptz))
RETURNING point_id, at, entered, exited
"""
_ANY = """
INSERT INTO visitor_counts (point_id, at, entered, exited)
SELECT * FROM batch
ON CONFLICT DO NOTHING
RETURNING point_id, at, entered, exited
"""
# What is new is rolled up into the park's bucket and local day, in park order (two
# batches of the same parks lock their rows in the same order).
_STORE = """
WITH batch AS ({batch}), stored AS ({insert}), counted AS (
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
    RETURNING park_id, day, entered, exited
)
SELECT (SELECT count(*) FROM stored) AS stored,
       (SELECT count(*) FROM buckets) AS buckets,
       ARRAY(SELECT ARRAY[park_id, entered, exited] FROM days WHERE day = :today
             ORDER BY park_id) AS today
"""
STORE_NEW = _STORE.format(batch=BATCH_ROWS, insert=_NEW)
STORE_ANY = _STORE.format(batch=BATCH_ROWS, insert=_ANY)


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
    # in UTC, as the route hands readings over: instants of one tzinfo compare field by field
    latest = (now + timedelta(seconds=limits.clock_skew_s)).astimezone(UTC)
    earliest = (now - timedelta(days=limits.retention_days)).astimezone(UTC)
    cap = limits.max_count
    future = f"lies in the future (more than {limits.clock_skew_s:g} s ahead of the server)"
    old = f"is older than the retention of {limits.retention_days} days"
    found = []
    for index, r in enumerate(readings):
        if earliest <= r.at <= latest and 0 <= r.entered <= cap and 0 <= r.exited <= cap:
            continue
        if r.at > latest:
            found.append(_named(r, index, future))
        elif r.at < earliest:
            found.append(_named(r, index, old))
        for what, value in (("in", r.entered), ("out", r.exited)):
            if not 0 <= value <= cap:
                reason = f"{what} must be 0..{cap:,}, not {value}"
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


def _ints(values: Iterable[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def batch_columns(readings: Sequence[Reading], ids: dict[str, int], times: list[datetime]
                  ) -> dict[str, Any]:  # fmt: skip
    """Return the batch's parameters: its distinct ``times`` (sorted) and, per reading, its
    point's id, its time's position among them, in and out."""
    place = {at: i for i, at in enumerate(times, start=1)}
    return {
        "times": array_text(times), "first": times[0], "last": times[-1],
        "ids": _ints([ids[r.point] for r in readings]),
        "tix": _ints([place[r.at] for r in readings]),
        "ins": _ints([r.entered for r in readings]),
        "outs": _ints([r.exited for r in readings]),
    }  # fmt: skip


def store_batch(session: Session, columns: dict[str, Any], times: set[datetime]) -> Row[Any]:
    """Store the readings not stored yet and roll them up; return (stored, buckets, today:
    [park, in, out] of each park whose day it changed).

    Each try is a savepoint. A missing day partition (SQLSTATE 23514) is made, on its own
    connection, only when the insert finds it missing — the savepoint's rollback has let go
    of every lock the insert took — so a batch pays no round trip to look for it.
    """
    statement, made = STORE_NEW, False
    while True:
        try:
            with session.begin_nested():
                return session.execute(text(statement), columns).one()
        except IntegrityError as error:
            code = getattr(error.orig, "pgcode", None)
            if code == NO_PARTITION and not made:
                COUNTS.ensure(session, {utc_day(at) for at in times})
                made = True
            elif code == UNIQUE_VIOLATION and statement is STORE_NEW:
                statement = STORE_ANY
            else:
                raise


def _points(session: Session, codes: set[str], actor: Actor) -> dict[str, int]:
    """Return the ids of the points named, among those of parks the actor may see."""
    named = cast(literal(array_text(sorted(codes))), ARRAY(Text))
    rows = session.execute(
        select(TourismPoint.code, TourismPoint.id)
        .join(Park, Park.id == TourismPoint.park_id)
        .where(TourismPoint.code == any_(named), actor.scope.clause(Park))
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
    codes = {r.point for r in readings}
    ids = _points(session, codes, actor)
    unknown = sorted(codes - set(ids))
    if unknown:
        shown = ", ".join(map(repr, unknown[:SHOWN_PROBLEMS]))
        raise InvalidInput(f"unknown points (no such point that you may see): {shown}; "
                           "nothing was saved", points=unknown[:SHOWN_PROBLEMS])  # fmt: skip
    times = {r.at for r in readings}
    columns = batch_columns(readings, ids, sorted(times))
    row = store_batch(session, {**columns, "bucket": BUCKET, "zone": zone.key,
                                "today": local_day(now, zone)}, times)  # fmt: skip
    today = [(int(p), int(i), int(o)) for p, i, o in row.today]
    parks = [park_id for park_id, _, _ in today]
    alerts = weigh_parks(session, today, settings=settings, zone=zone, now=now, actor=actor)
    report = CountReport(len(readings), int(row.stored), parks, [a.id for a in alerts])
    record_audit(session, actor=actor, action="tourism.counts", target_type="tourism", after={
        **asdict(report), "from": columns["first"].isoformat(),
        "to": columns["last"].isoformat(),
    })  # fmt: skip
    return report

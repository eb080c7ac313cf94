"""Hazards (隐患台账): found at a feature, rectified by its unit, verified by an officer.

Each feature with open hazards has a ``feature_risks`` row — how many are open and
the highest open level — kept right in the transaction that opens or closes one, for
the map and the unit card.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from itertools import groupby

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.base import Base
from layers.events import Change, announce_change_after_commit
from layers.features.registry import get_layer
from layers.records.kinds import RecordKind
from layers.records.models import Record
from layers.records.refs import Assignee, FeatureRef
from layers.records.workflow import Party, Step, Workflow, step


class HazardCategory(StrEnum):
    """What sort of danger a hazard is."""

    FIRE = "fire"
    ELECTRICAL = "electrical"
    STRUCTURAL = "structural"
    CROWD = "crowd"
    PUBLIC_SECURITY = "public_security"
    TRAFFIC = "traffic"
    FOOD_DRUG = "food_drug"
    OTHER = "other"


class HazardDetails(BaseModel):
    """What a hazard carries: level 1 (minor) to 4 (major), category, who fixes it.

    Its photos are its attachments (``layers.records.attachments``), each with the state
    it came in: the ``found`` ones show the hazard, the ``rectifying`` ones its repair.
    """

    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=4)
    category: HazardCategory
    description: str | None = Field(default=None, max_length=5000)
    assignees: list[Assignee] = Field(default_factory=list, max_length=50)


class FeatureRisk(Base):
    """The open hazards of one feature: how many, and the highest level."""

    __tablename__ = "feature_risks"

    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open_hazards: Mapped[int] = mapped_column(Integer)
    hazard_level: Mapped[int] = mapped_column(SmallInteger)


_POLICE = (Role.OFFICER, Role.COMMANDER)

HAZARD_WORKFLOW = Workflow(
    states=("found", "rectifying", "rectified", "verified", "reopened"),
    steps=(
        step(
            "rectify",
            ("found", "reopened"),
            "rectifying",
            roles=_POLICE,
            parties=[Party.ASSIGNEE],
            title="开始整改",
        ),
        step(
            "report",
            "rectifying",
            "rectified",
            roles=_POLICE,
            parties=[Party.ASSIGNEE],
            title="整改完成",
        ),
        step("verify", "rectified", "verified", roles=_POLICE, title="复核通过"),
        step("reopen", ("rectified", "verified"), "reopened", roles=_POLICE, title="重新打开"),
    ),
    titles={
        "found": "已发现",
        "rectifying": "整改中",
        "rectified": "已整改",
        "verified": "已复核",
        "reopened": "已重开",
    },
    closed=frozenset({"verified"}),
)

# Under a per-feature lock (taken in id order), so two writers never count past each other.
_KEEP_RISK = """
WITH counted AS (
    SELECT f.id AS feature_id, count(r.id) AS open_hazards,
           max((r.details ->> 'level')::smallint) AS hazard_level
    FROM unnest(CAST(:ids AS bigint[])) AS f(id)
    LEFT JOIN record_links AS l ON l.layer = :layer AND l.feature_id = f.id
    LEFT JOIN records AS r
        ON r.id = l.record_id AND r.kind = 'hazard' AND r.state <> ALL(CAST(:closed AS text[]))
    GROUP BY f.id
), cleared AS (
    DELETE FROM feature_risks AS k USING counted AS c
    WHERE k.layer = :layer AND k.feature_id = c.feature_id AND c.open_hazards = 0
    RETURNING k.feature_id
), kept AS (
    INSERT INTO feature_risks AS k (layer, feature_id, open_hazards, hazard_level)
    SELECT :layer, feature_id, open_hazards, hazard_level FROM counted WHERE open_hazards > 0
    ON CONFLICT (layer, feature_id) DO UPDATE
    SET open_hazards = EXCLUDED.open_hazards, hazard_level = EXCLUDED.hazard_level
    WHERE (k.open_hazards, k.hazard_level)
        IS DISTINCT FROM (EXCLUDED.open_hazards, EXCLUDED.hazard_level)
    RETURNING k.feature_id
)
SELECT feature_id FROM cleared UNION ALL SELECT feature_id FROM kept
"""
_EXTENT = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM {table} WHERE id = ANY(CAST(:ids AS bigint[]))) AS x
"""


def keep_feature_risk(session: Session, record: Record, features: Sequence[FeatureRef]) -> None:
    """Recount the open hazards of ``features`` after ``record`` was written.

    The tiles of this process drop what showed a changed risk once the write commits
    (other processes hear it from the database: migration 0018).
    """
    ordered = sorted(features, key=lambda f: (f.layer, f.id))
    for layer, refs in groupby(ordered, key=lambda f: f.layer):
        ids = [f.id for f in refs]
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('feature_risk:' || :layer), id::int) "
                 "FROM unnest(CAST(:ids AS bigint[])) AS id ORDER BY id"),
            {"layer": layer, "ids": ids},
        )  # fmt: skip
        closed = sorted(HAZARD_WORKFLOW.closed)
        params = {"layer": layer, "ids": ids, "closed": closed}
        changed = list(session.scalars(text(_KEEP_RISK), params))
        if changed:
            table = get_layer(layer).table
            box = session.execute(text(_EXTENT.format(table=table)), {"ids": changed}).one()
            if box[0] is not None:
                announce_change_after_commit(
                    session, Change(layer, (box[0], box[1], box[2], box[3]))
                )


_RECOUNT = """
INSERT INTO feature_risks (layer, feature_id, open_hazards, hazard_level)
SELECT l.layer, l.feature_id, count(*), max((r.details ->> 'level')::smallint)
FROM records AS r JOIN record_links AS l ON l.record_id = r.id
WHERE r.kind = 'hazard' AND r.state <> ALL(CAST(:closed AS text[]))
GROUP BY l.layer, l.feature_id
"""


def recount_feature_risks(session: Session) -> None:
    """Count every feature's open hazards anew (after records were written in bulk by SQL)."""
    session.execute(text("DELETE FROM feature_risks"))
    session.execute(text(_RECOUNT), {"closed": sorted(HAZARD_WORKFLOW.closed)})


def risk_of(session: Session, layer: str, feature_id: int) -> FeatureRisk | None:
    """Return the open hazards of one feature (None when it has none)."""
    return session.get(FeatureRisk, (layer, feature_id))


HIGH_LEVEL = 3


def closing_needs_a_commander(record: Record, taken: Step, actor: Actor) -> frozenset[Role]:
    """Return who must approve ``taken``: closing a level 3-4 hazard needs a commander."""
    closing = taken.target in HAZARD_WORKFLOW.closed
    if closing and record.details["level"] >= HIGH_LEVEL and actor.role is not Role.COMMANDER:
        return frozenset({Role.COMMANDER})
    return frozenset()


HAZARD = RecordKind(
    id="hazard",
    title="隐患",
    workflow=HAZARD_WORKFLOW,
    details=HazardDetails,
    creators=frozenset({*_POLICE, Role.UNIT}),  # a unit reports its own hazards too
    after_write=keep_feature_risk,
    notify_on_create=frozenset({Party.ASSIGNEE}),
    approval=closing_needs_a_commander,
)

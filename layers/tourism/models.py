"""ORM models of tourism monitoring: points, counts and their rollups, alerts, relations, flows.

A park (``layers.features.models.Park``) is a feature of the registry; everything here
hangs off it and follows it: a point, a relation, an alert state or a flow is seen by
whoever may see its park, and goes when its park is deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base

POINT_KINDS = ("gate", "counter", "camera", "spot")
LEVELS = ("normal", "yellow", "orange", "red", "stop")  # 正常 / 黄 / 橙 / 红 / 停止售票
BASES = ("instant", "daily")  # against the instantaneous or the daily capacity
ORIGIN_KINDS = ("park", "h3", "district", "rail_station")


def _park_id(primary_key: bool = False) -> Any:
    return mapped_column(
        BigInteger, ForeignKey("parks.id", ondelete="CASCADE"), primary_key=primary_key,
        index=not primary_key,
    )  # fmt: skip


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TourismPoint(Base):
    """点位: a monitored point of a park — a gate, a counter, a camera, or a scenic spot.

    ``code`` is what a counter calls itself in its batches; ``counts`` says whether its
    in/out figures add to the park's occupancy (a camera's estimate may not).
    """

    __tablename__ = "tourism_points"
    __table_args__ = (
        CheckConstraint(_in("kind", POINT_KINDS), name="kind"),
        Index("ix_tourism_points_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    park_id: Mapped[int] = _park_id()
    code: Mapped[str] = mapped_column(String(64, collation="C"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    counts: Mapped[bool] = mapped_column(Boolean, default=True)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ParkLevels(Base):
    """A park's alert thresholds in percent of capacity (defaults: LB/T 068-2017, 034-2014)."""

    __tablename__ = "park_levels"
    __table_args__ = (
        CheckConstraint(
            "0 < yellow AND yellow < orange AND orange < red AND red < stop AND stop <= 200",
            name="ascending",
        ),
    )

    park_id: Mapped[int] = _park_id(primary_key=True)
    yellow: Mapped[int] = mapped_column(SmallInteger)
    orange: Mapped[int] = mapped_column(SmallInteger)
    red: Mapped[int] = mapped_column(SmallInteger)
    stop: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)


class VisitorCount(Base):
    """One reading of a point: visitors in and out during the interval ending at ``at``.

    Partitioned by range of ``at``, a partition per UTC day (``layers.partitions``); the
    key makes a resent reading a no-op. No key to the point: every insert would pay for it.
    """

    __tablename__ = "visitor_counts"
    __table_args__ = ({"postgresql_partition_by": "RANGE (at)"},)

    point_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    entered: Mapped[int] = mapped_column(Integer)
    exited: Mapped[int] = mapped_column(Integer)


class ParkBucket(Base):
    """Rollup: a park's visitors in and out in a 5-minute bucket (UTC start), added to on ingest."""

    __tablename__ = "park_buckets"

    park_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    entered: Mapped[int] = mapped_column(BigInteger)
    exited: Mapped[int] = mapped_column(BigInteger)


class ParkDay(Base):
    """Rollup: a park's visitors in and out on one local day (reset daily), added to on ingest."""

    __tablename__ = "park_days"

    park_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    entered: Mapped[int] = mapped_column(BigInteger)
    exited: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ParkAlertState(Base):
    """The level a park stands at on one basis (instant or daily), as alerts last left it."""

    __tablename__ = "park_alert_states"
    __table_args__ = (CheckConstraint(_in("basis", BASES), name="basis"),)

    park_id: Mapped[int] = _park_id(primary_key=True)
    basis: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(SmallInteger)  # index into LEVELS


class ParkAlert(Base):
    """A park crossed into another level: one row (and one event) per crossing."""

    __tablename__ = "park_alerts"
    __table_args__ = (
        CheckConstraint(_in("basis", BASES), name="basis"),
        CheckConstraint(_in("level", LEVELS), name="level"),
        CheckConstraint(_in("previous", LEVELS), name="previous"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    park_id: Mapped[int] = _park_id()
    park_name: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(8))
    previous: Mapped[str] = mapped_column(String(8))
    visitors: Mapped[int] = mapped_column(BigInteger)
    capacity: Mapped[int] = mapped_column(Integer)
    ratio: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ParkRelation(Base):
    """特征关联: a feature tied to a park — its gates, stations and stops within walking distance.

    ``source`` says whether the spatial computation or a person made it; ``hidden`` keeps a
    computed relation a person removed from coming back on the next computation.
    """

    __tablename__ = "park_relations"
    __table_args__ = (
        CheckConstraint(_in("layer", ("rail_stations", "bus_stations", "tourism_points")),
                        name="layer"),
        CheckConstraint(_in("source", ("computed", "manual")), name="source"),
    )  # fmt: skip

    park_id: Mapped[int] = _park_id(primary_key=True)
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    distance_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(8))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class TourismFlow(Base):
    """客流: visitors from an origin (a park, H3 cell, district or rail station) to a park in
    the hour starting at ``at``; a resent row replaces the volume."""

    __tablename__ = "tourism_flows"
    __table_args__ = (CheckConstraint(_in("origin_kind", ORIGIN_KINDS), name="origin_kind"),
                      CheckConstraint("volume >= 0", name="volume"),
                      Index("ix_tourism_flows_at", "at"))  # fmt: skip

    origin_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    origin: Mapped[str] = mapped_column(String(32, collation="C"), primary_key=True)
    park_id: Mapped[int] = _park_id(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    volume: Mapped[int] = mapped_column(Integer)


class ParkVehicle(Base):
    """车辆关联: a vehicle tied to a park — registered by the team, or inferred from dwelling."""

    __tablename__ = "park_vehicles"
    __table_args__ = (CheckConstraint(_in("source", ("registered", "inferred")), name="source"),)

    park_id: Mapped[int] = _park_id(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TourismActivity(Base):
    """特别活动: a festival or holiday event at a park, with the attendance expected."""

    __tablename__ = "tourism_activities"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window"),
                      CheckConstraint("expected >= 0", name="expected"))  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    park_id: Mapped[int] = _park_id()
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expected: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class TopicMap(Base):
    """旅游专题图: a named map configuration (layers, filters, view) the team reopens and shares."""

    __tablename__ = "topic_maps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StationExit(Base):
    """出站客流: people who left a rail station in the hour starting at ``at``; a resent row
    replaces the count. Flows to the parks the station is related to are derived from it."""

    __tablename__ = "station_exits"
    __table_args__ = (
        CheckConstraint("exits >= 0", name="exits"),
        Index("ix_station_exits_at", "at"),
    )

    station_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("rail_stations.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    exits: Mapped[int] = mapped_column(Integer)

"""ORM models of security perimeters (安保圈层), their rings and their kept versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base
from layers.features.models import BusStation, Incident, Unit
from layers.records.models import Record


class Perimeter(Base):
    """A perimeter: a name, an optional activity, a time window and one to three rings.

    ``extent`` is the union of the rings (what jurisdictions a perimeter reaches into and
    a first spatial filter); ``version`` increases on every write (the ETag).
    """

    __tablename__ = "perimeters"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_perimeters_extent", "extent", postgresql_using="gist"),
        Index("ix_perimeters_window", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    # No key to records: the demo city draws its records anew (TRUNCATE), and a perimeter
    # outlives the activity record it was planned for.
    activity_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    extent: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PerimeterRing(Base):
    """One ring of a perimeter: how it was drawn and the shape that results.

    ``geom`` has vertices along its edges' geodesics (``geo.densify``), so planar tests
    on it give the geodesic answer.
    """

    __tablename__ = "perimeter_rings"
    __table_args__ = (
        CheckConstraint("kind IN ('core', 'control', 'outer')", name="kind"),
        Index("ix_perimeter_rings_geom", "geom", postgresql_using="gist"),
    )

    perimeter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("perimeters.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    drawn: Mapped[dict[str, Any]] = mapped_column(JSONB)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    area_m2: Mapped[float] = mapped_column(Float)


class PerimeterCell(Base):
    """A resolution-9 H3 cell meeting a ring: the innermost ring it meets (``first``) and the
    innermost holding all of it (``whole``; the number of rings when none), by ring index
    innermost first (``geo.hexrings``). Points of the cell need a test only in between."""

    __tablename__ = "perimeter_cells"

    perimeter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("perimeters.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first: Mapped[int] = mapped_column(SmallInteger)
    whole: Mapped[int] = mapped_column(SmallInteger)


class UnitCellCount(Base):
    """How many units a resolution-9 cell holds of one category, risk level and jurisdiction.

    Kept by a statement trigger on ``units`` (migration 0031; a bulk import that swaps
    the table in rebuilds it): a ring's contents count the cells wholly inside it from
    here. -1 stands for "none" in the jurisdiction columns (a key column cannot be NULL).
    """

    __tablename__ = "unit_cell_counts"

    h3_cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    category: Mapped[str] = mapped_column(String(32, collation="C"), primary_key=True)
    risk_level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    district_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    precinct_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class PerimeterVersion(Base):
    """A perimeter as it was at one version, kept for the record (the current one too)."""

    __tablename__ = "perimeter_versions"

    perimeter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("perimeters.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    saved_by: Mapped[int | None] = mapped_column(BigInteger)
    saved_by_name: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# What the contents read from other tables, without a visit to the table itself: the units
# of a cell by id, with what they are grouped and scoped by and their points (an
# index-only scan of ~100,000 units of a district takes a tenth of the time the rows do;
# a cell's first units by id are its first entries), and the few records of the kinds
# the contents list among the many of every kind.
UNITS_BY_CELL = Index(
    "ix_units_h3_cell_contents", Unit.h3_cell, Unit.id,
    postgresql_include=["category", "risk_level", "district_id", "precinct_id", "geom"],
)  # fmt: skip
OPEN_HAZARDS = Index(
    "ix_records_open_hazards_geom", Record.geom, postgresql_using="gist",
    postgresql_where=text("kind = 'hazard' AND state <> 'verified'"),
)  # fmt: skip
ACTIVITIES = Index(
    "ix_records_activities_geom", Record.geom, postgresql_using="gist",
    postgresql_where=text("kind = 'activity'"),
)  # fmt: skip
# The other point layers read cell by cell (one index probe per cell of the perimeter)
# need the same: without them the planner walked the whole cell index of a layer in a
# merge join and visited each row for its point and time (migration 0034).
_SCOPED = ["district_id", "precinct_id", "geom"]
INCIDENTS_BY_CELL = Index(
    "ix_incidents_h3_cell_contents", Incident.h3_cell, Incident.occurred_at,
    postgresql_include=["id", *_SCOPED],
)  # fmt: skip
BUS_STATIONS_BY_CELL = Index(
    "ix_bus_stations_h3_cell_contents", BusStation.h3_cell, BusStation.id,
    postgresql_include=_SCOPED,
)  # fmt: skip

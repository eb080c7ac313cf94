"""ORM models of geofencing: where each vehicle or incident stands towards a ring, and alerts."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base


class GeofenceState(Base):
    """Whether a feature is inside one ring of a perimeter, and since when a crossing pends.

    One row per (layer, feature, perimeter, ring) that has come near the ring; none means
    outside. ``pending_since`` is the first position of an unbroken run beyond the margin
    on the other side (the dwell counts from it); ``seen_at`` the last position weighed.
    """

    __tablename__ = "geofence_states"
    __table_args__ = (Index("ix_geofence_states_perimeter_id", "perimeter_id"),)

    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No key to perimeters: its check would wait on a perimeter being edited while the
    # writer holds the event log's lock, which the edit takes next (a deadlock).
    # ``forget_deleted_perimeters`` clears the states of perimeters since deleted.
    perimeter_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ring: Mapped[str] = mapped_column(String(16), primary_key=True)
    inside: Mapped[bool] = mapped_column(Boolean)
    pending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GeofenceAlert(Base):
    """A feature entered or left a ring: where, when, and who acknowledged it.

    The perimeter's and feature's names are copied: an alert outlives both.
    """

    __tablename__ = "geofence_alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('enter', 'exit')", name="kind"),
        CheckConstraint("state IN ('open', 'acknowledged')", name="state"),
        Index("ix_geofence_alerts_open", "id", postgresql_where=text("state = 'open'")),
        Index("ix_geofence_alerts_feature", "layer", "feature_id"),
        Index("ix_geofence_alerts_perimeter_id", "perimeter_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    perimeter_id: Mapped[int] = mapped_column(BigInteger)
    perimeter_name: Mapped[str] = mapped_column(String(200))
    ring: Mapped[str] = mapped_column(String(16))
    layer: Mapped[str] = mapped_column(String(32))
    feature_id: Mapped[int] = mapped_column(BigInteger)
    feature_name: Mapped[str] = mapped_column(String(200))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), server_default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(64))

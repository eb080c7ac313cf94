"""ORM model of vehicle positions: one row per vehicle and instant, partitioned by day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import REAL, BigInteger, DateTime, Float
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base


class VehiclePosition(Base):
    """One GPS position of a vehicle (WGS84), unique per vehicle and instant.

    The table is partitioned by range of ``at``, one partition a UTC day
    (``layers.tracks.partitions``); the key serves both a resent batch (``ON CONFLICT
    DO NOTHING``) and a vehicle's track over a window. No key to ``vehicles``: a track
    outlives its vehicle, and every insert would pay for the lookup.
    """

    __tablename__ = "vehicle_positions"
    __table_args__ = ({"postgresql_partition_by": "RANGE (at)"},)

    vehicle_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    lon: Mapped[float] = mapped_column(Float(precision=53))
    lat: Mapped[float] = mapped_column(Float(precision=53))
    speed_kmh: Mapped[float | None] = mapped_column(REAL)
    heading_deg: Mapped[float | None] = mapped_column(REAL)

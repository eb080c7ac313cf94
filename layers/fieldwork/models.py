"""ORM models of field work: check-ins on site and the keys of writes sent from phones."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, DateTime, Float, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base


class CheckIn(Base):
    """An officer was at feature ``feature_id`` of ``layer``: where, when, how far from it.

    ``geom`` is the officer's position (WGS84), ``distance_m`` its geodesic distance to
    the feature when the check-in was accepted; ``at`` is the server's time and
    ``client_at`` the phone's, which is earlier when the check-in waited offline.
    ``district_id``/``precinct_id`` are the feature's then: who may read it.
    """

    __tablename__ = "check_ins"
    __table_args__ = (Index("ix_check_ins_feature", "layer", "feature_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    layer: Mapped[str] = mapped_column(String(32))
    feature_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    username: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    distance_m: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    client_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_id: Mapped[int | None] = mapped_column(BigInteger)
    precinct_id: Mapped[int | None] = mapped_column(BigInteger)


class ClientWrite(Base):
    """A write a user's client sent under its own key: sent again, it is not done again.

    ``fingerprint`` is a digest of what was sent (the same key with other content is
    refused); ``target_id`` is what the first write made (None while it is being made).
    """

    __tablename__ = "client_writes"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(64, collation="C"), primary_key=True)
    action: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

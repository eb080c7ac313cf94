"""ORM models of audit records and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, DateTime, FetchedValue, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base


class AuditRecord(Base):
    """One attempted action: who (and in which role, from where), what, when, before/after
    and the result.

    ``chain_hash`` seals this record and the one before it with HMAC-SM3 under the key
    ring's audit key of ``key_version`` (plain SM3 for records from before it, whose
    ``key_version`` is null): an edited, inserted, deleted or reordered record breaks the
    chain (``layers.audit.chain``). The application's database role may only read and
    append (migration 0021, ``layers.privileges``).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(500))
    client: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    key_version: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))


class Event(Base):
    """One change, in commit order per id, for the live stream and replay.

    The database draws the id under the event log's lock, held until commit, and keeps
    the jurisdiction of the feature an event is about (migration 0026).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_layer_feature", "layer", "feature_id"),
        Index("ix_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    type: Mapped[str] = mapped_column(String(64))
    layer: Mapped[str | None] = mapped_column(String(64))
    feature_id: Mapped[int | None] = mapped_column(BigInteger)
    bbox: Mapped[WKBElement | None] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False)
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set by the database; no keys to the boundaries: an event outlives them.
    district_id: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    precinct_id: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())

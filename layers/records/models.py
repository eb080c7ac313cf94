"""ORM models of records, their links to features and their workflow history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base


class Record(Base):
    """One business record: a task, hazard, inspection, notice... of one ``kind``.

    ``geom`` is where the record happens (its first feature's representative point);
    ``district_id``/``precinct_id`` are that feature's jurisdiction. That feature is the
    record's place (its link with ``place``): when it moves, or a boundary change puts it
    in another precinct, the record follows it (a trigger, migration 0019). ``starts_at`` and
    ``ends_at`` are the period an activity, a construction or a support request runs
    (open-ended without an end). ``overdue_at`` is when the record was announced
    overdue (once). ``version`` increases on every write (the ETag).
    """

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_geom", "geom", postgresql_using="gist"),
        Index("ix_records_kind_state", "kind", "state"),
        Index("ix_records_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL")),
        Index(
            "ix_records_window",
            "kind",
            "ends_at",
            "starts_at",
            postgresql_where=text("starts_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="2")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    district_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("districts.id", ondelete="SET NULL"), index=True
    )
    precinct_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("precincts.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecordLink(Base):
    """A record concerns a feature of a layer; one table for every kind and layer.

    ``place``: the feature gives the record its place and jurisdiction (one link a record).
    """

    __tablename__ = "record_links"
    __table_args__ = (
        Index("ix_record_links_feature", "layer", "feature_id", "record_id"),
        Index("uq_record_links_place", "record_id", unique=True, postgresql_where=text("place")),
    )

    record_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    place: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class RecordPersonalIndex(Base):
    """Blind-index digest of one personal details field of a record, for exact search.

    The field's value itself is sealed in ``records.details`` (``layers.records.personal``);
    ``digest`` is its keyed digest (``layers.crypto.personal.BlindIndex``).
    """

    __tablename__ = "record_personal_index"
    __table_args__ = (Index("ix_record_personal_index_digest", "field", "digest"),)

    record_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary)


class RecordTransition(Base):
    """One step of a record's workflow: who did which action, when, with what note."""

    __tablename__ = "record_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecordComment(Base):
    """A remark on a record by someone who may see it."""

    __tablename__ = "record_comments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(String(5000))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecordCount(Base):
    """How many records there are of each topic, kind, state, district and precinct.

    Kept by statement triggers on ``records`` (migration of the records), so statistics
    read a few thousand rows instead of counting millions; -1 stands for "none" in the
    jurisdiction columns (a key column cannot be NULL).
    """

    __tablename__ = "record_counts"

    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    district_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    precinct_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)

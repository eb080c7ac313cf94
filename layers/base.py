"""Declarative base and the columns every feature layer shares."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    FetchedValue,
    ForeignKey,
    Integer,
    MetaData,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def grams_column() -> Mapped[list[int] | None]:
    """Return a ``c_grams`` column: the bigrams of text column ``c`` (``layers.features.grams``).

    Set by the database (a row trigger) on every write of ``c``. Deferred: only searches
    read it, in SQL; loading a feature leaves it in the database.
    """
    return mapped_column(
        ARRAY(Integer), deferred=True, server_default=FetchedValue(), server_onupdate=FetchedValue()
    )


class Base(DeclarativeBase):
    """Declarative base of every table, with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Feature:
    """Columns shared by every feature layer; subclasses add ``geom`` and attributes.

    ``district_id``/``precinct_id`` are filled spatially by the write path, ``h3_cell``
    is the resolution-9 cell of the geometry's representative point (``h3_coarse`` its
    cells at resolutions 0-8) and ``version``
    increases on every write (it is the ETag).
    """

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Byte order ("C"): ids need no linguistic order, and their index builds 3x faster.
    external_id: Mapped[str | None] = mapped_column(String(128, collation="C"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_grams: Mapped[list[int] | None] = grams_column()
    h3_cell: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # h3_coarse[r + 1]: the resolution-r cell (r = 0..8) holding the same point, which is
    # not always h3_cell's ancestor (geo.hexes.coarser_cells). Only hexbins read it.
    h3_coarse: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger), deferred=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Checked at commit: a boundary change reassigns the features first (migration 0014).
    @declared_attr
    def district_id(cls) -> Mapped[int | None]:
        return mapped_column(
            BigInteger,
            ForeignKey("districts.id", deferrable=True, initially="DEFERRED", use_alter=True),
            index=True,
        )

    @declared_attr
    def precinct_id(cls) -> Mapped[int | None]:
        return mapped_column(
            BigInteger,
            ForeignKey("precincts.id", deferrable=True, initially="DEFERRED", use_alter=True),
            index=True,
        )


class AreaFeature(Feature):
    """A polygon layer: besides the centre cell it keeps the H3 cells covering it."""

    h3_cover: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))

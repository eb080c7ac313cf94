"""ORM models of the feature layers; geometry in WGS84 (SRID 4326) with GiST indexes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from layers.base import AreaFeature, Base, Feature, grams_column
from layers.features.grams import column_of


def _point() -> Any:
    return mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)


def _point_3857() -> Any:
    # Tiles encode this stored copy; they select on the GiST index of ``geom`` instead.
    # A row trigger sets it from ``geom`` (migration 0009); bulk imports write it.
    return mapped_column(
        Geometry("POINT", srid=3857, spatial_index=False, nullable=False),
        nullable=False, server_default=FetchedValue(), server_onupdate=FetchedValue(),
    )  # fmt: skip


def _line() -> Any:
    return mapped_column(
        Geometry("MULTILINESTRING", srid=4326, spatial_index=False), nullable=False
    )


def _area() -> Any:
    return mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)


class _Indexed:
    """Adds the GiST index on ``geom`` and a GIN index on the grams of each searched text.

    ``__text_search__`` names the text columns searched anywhere (``name`` unless a layer
    says more); each column ``c`` has ``c_grams`` (``layers.features.grams``), set from
    ``c`` by a row trigger whoever writes the row, with its own GIN index
    ``ix_<table>_c_grams`` over the rows that have the text: a bulk load builds them
    side by side, and a search ORs them.
    """

    __tablename__: str
    __text_search__: tuple[str, ...] = ("name",)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        table = cls.__tablename__
        args: list[Any] = [
            Index(f"ix_{table}_geom", "geom", postgresql_using="gist"),
            *(Index(f"ix_{table}_{column_of(text)}", column_of(text), postgresql_using="gin",
                    postgresql_where=sql_text(f"{column_of(text)} IS NOT NULL"))
              for text in cls.__text_search__),
        ]  # fmt: skip
        if issubclass(cls, AreaFeature):  # type: ignore[arg-type]
            args.append(Index(f"ix_{table}_h3_cover", "h3_cover", postgresql_using="gin"))
        return (*args, *getattr(cls, "__extra_args__", ()))


class District(_Indexed, AreaFeature, Base):
    """分局: a district bureau's jurisdiction."""

    __tablename__ = "districts"
    geom: Mapped[WKBElement] = _area()
    code: Mapped[str] = mapped_column(String(32, collation="C"), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(32))


class Precinct(_Indexed, AreaFeature, Base):
    """派出所辖区: a police station's jurisdiction inside a district."""

    __tablename__ = "precincts"
    geom: Mapped[WKBElement] = _area()
    code: Mapped[str] = mapped_column(String(32, collation="C"), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(32))


class Unit(_Indexed, Feature, Base):
    """单位: a supervised organisation at a location."""

    __tablename__ = "units"
    __text_search__ = ("name", "address")
    __extra_args__ = (
        CheckConstraint("risk_level BETWEEN 1 AND 4", name="risk_level"),
        # byte order: serves LIKE 'prefix%'; rows without a code are never looked up by it
        Index(
            "ix_units_credit_code",
            "credit_code",
            postgresql_where=sql_text("credit_code IS NOT NULL"),
        ),
        *(Index(f"ix_units_{c}", c, postgresql_where=sql_text(f"{c} IS NOT NULL"))
          for c in ("contact_name_index", "contact_phone_index")),
    )  # fmt: skip
    geom: Mapped[WKBElement] = _point()
    geom_3857: Mapped[WKBElement] = _point_3857()
    category: Mapped[str] = mapped_column(String(32, collation="C"))
    credit_code: Mapped[str | None] = mapped_column(String(18, collation="C"))
    address: Mapped[str | None] = mapped_column(String(300))
    address_grams: Mapped[list[int] | None] = grams_column()
    risk_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    is_key_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    # personal (registry ``personal=``): SM4-GCM sealed, with a blind index for exact search
    contact_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_phone: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_name_index: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_phone_index: Mapped[bytes | None] = mapped_column(LargeBinary)


class Park(_Indexed, AreaFeature, Base):
    """景区/公园: a scenic spot or park with a visitor capacity."""

    __tablename__ = "parks"
    __extra_args__ = (
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("daily_capacity >= 0", name="daily_capacity"),
    )
    geom: Mapped[WKBElement] = _area()
    kind: Mapped[str] = mapped_column(String(16), default="park")
    capacity: Mapped[int] = mapped_column(Integer, default=0)  # instantaneous (瞬时承载量)
    daily_capacity: Mapped[int | None] = mapped_column(Integer)  # a day's visitors (日承载量)
    grade: Mapped[str | None] = mapped_column(String(4))
    opening_hours: Mapped[str | None] = mapped_column(String(64))


class RailStation(_Indexed, Feature, Base):
    """轨道交通站: a rail transit station."""

    __tablename__ = "rail_stations"
    geom: Mapped[WKBElement] = _point()
    geom_3857: Mapped[WKBElement] = _point_3857()
    code: Mapped[str | None] = mapped_column(String(32, collation="C"))
    lines: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)


class BusStation(_Indexed, Feature, Base):
    """公交站: a ground transit stop."""

    __tablename__ = "bus_stations"
    geom: Mapped[WKBElement] = _point()
    geom_3857: Mapped[WKBElement] = _point_3857()
    code: Mapped[str | None] = mapped_column(String(32, collation="C"), index=True)
    lines: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)


class ConstructionSite(_Indexed, AreaFeature, Base):
    """工地/轨建工地: a construction site, possibly of a rail project."""

    __tablename__ = "construction_sites"
    geom: Mapped[WKBElement] = _area()
    project: Mapped[str | None] = mapped_column(String(200))
    contractor: Mapped[str | None] = mapped_column(String(200))
    is_rail: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class KeyStationArea(_Indexed, AreaFeature, Base):
    """重点站区: the area around a major station."""

    __tablename__ = "key_station_areas"
    __extra_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="level"),)
    geom: Mapped[WKBElement] = _area()
    station: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(SmallInteger, default=1)


class Incident(_Indexed, Feature, Base):
    """警情/事件: a reported event at a place and time."""

    __tablename__ = "incidents"
    __extra_args__ = (
        CheckConstraint("level BETWEEN 1 AND 4", name="level"),
        Index("ix_incidents_occurred_at", "occurred_at"),
    )
    geom: Mapped[WKBElement] = _point()
    geom_3857: Mapped[WKBElement] = _point_3857()
    category: Mapped[str] = mapped_column(String(32, collation="C"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[str] = mapped_column(String(16, collation="C"), default="open", index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Vehicle(_Indexed, Feature, Base):
    """车辆: a tracked vehicle at its last known position."""

    __tablename__ = "vehicles"
    geom: Mapped[WKBElement] = _point()
    geom_3857: Mapped[WKBElement] = _point_3857()
    plate: Mapped[str] = mapped_column(String(16, collation="C"), unique=True)
    kind: Mapped[str] = mapped_column(String(16, collation="C"), index=True)
    position_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RailLine(_Indexed, Feature, Base):
    """轨道交通线: a rail transit line of the base map, drawn in its own colour."""

    __tablename__ = "rail_lines"
    geom: Mapped[WKBElement] = _line()
    code: Mapped[str | None] = mapped_column(String(32, collation="C"))
    colour: Mapped[str | None] = mapped_column(String(7))  # "#RRGGBB"


class Road(_Indexed, Feature, Base):
    """道路: a road of the base map (or a bus route standing for the roads it runs on)."""

    __tablename__ = "roads"
    geom: Mapped[WKBElement] = _line()
    code: Mapped[str | None] = mapped_column(String(32, collation="C"))
    kind: Mapped[str] = mapped_column(String(16, collation="C"), default="arterial")


class Water(_Indexed, AreaFeature, Base):
    """水系: a lake, reservoir or river of the base map."""

    __tablename__ = "water"
    geom: Mapped[WKBElement] = _area()
    kind: Mapped[str] = mapped_column(String(16, collation="C"), default="lake")


FEATURE_MODELS: tuple[type[Base], ...] = (
    District,
    Precinct,
    Unit,
    Park,
    RailStation,
    BusStation,
    ConstructionSite,
    KeyStationArea,
    Incident,
    Vehicle,
    Water,
    RailLine,
    Road,
)

__all__ = [
    "FEATURE_MODELS",
    "BusStation",
    "ConstructionSite",
    "District",
    "Incident",
    "KeyStationArea",
    "Park",
    "Precinct",
    "RailLine",
    "RailStation",
    "Road",
    "Unit",
    "Vehicle",
    "Water",
]


_TEXT_SEARCH = {model.__tablename__: model.__text_search__ for model in _Indexed.__subclasses__()}


def text_search_columns(table: str, among: Collection[str] | None = None) -> tuple[str, ...]:
    """Return the text columns of feature table ``table`` that keep grams (``c_grams``).

    With ``among``, only those of them in ``among`` (the columns a writer writes).
    """
    texts = _TEXT_SEARCH[table]
    return texts if among is None else tuple(t for t in texts if t in among)

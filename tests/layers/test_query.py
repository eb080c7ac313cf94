"""Query builders in the domain: filters, cursors, H3 parent masks, CRS output, scope."""

from __future__ import annotations

import json

import h3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from geo import hexes
from geo.crs import CoordSystem, convert
from layers.accounts.roles import Role
from layers.accounts.scope import Actor, Scope, ScopeKind
from layers.errors import InvalidInput, PermissionDenied
from layers.features.filters import parse_filter
from layers.features.hexagg import parent_masks
from layers.features.query import (
    FeatureQuery,
    Sort,
    conditions,
    decode_cursor,
    encode_cursor,
    geometries_in_crs,
    list_features,
)
from layers.features.registry import get_layer

UNITS = get_layer("units")


@given(
    st.floats(115.5, 117.5), st.floats(39.4, 41.0), st.integers(0, 9)
)  # fmt: skip
def test_parent_masks_agree_with_h3(lon: float, lat: float, resolution: int) -> None:
    cell = hexes.cell_of_point(lon, lat, 9)
    clear, set_ = parent_masks(resolution)
    assert (cell & clear) | set_ == h3.str_to_int(
        h3.cell_to_parent(h3.int_to_str(cell), resolution)
    )
    assert clear < 2**63 and set_ < 2**63  # fit a signed BIGINT


def test_filters_parse_values_lists_and_ranges() -> None:
    assert parse_filter(UNITS, "risk_level", "3").values == (3,)
    assert parse_filter(UNITS, "category", "school,bank").values == ("school", "bank")
    ranged = parse_filter(UNITS, "risk_level", "2..")
    assert (ranged.low, ranged.high) == (2, None)
    for name, raw in [("risk_level", "9"), ("risk_level", "x..y"), ("category", "zoo"),
                      ("nope", "1"), ("risk_level", "..")]:  # fmt: skip
        with pytest.raises(InvalidInput):
            parse_filter(UNITS, name, raw)


def test_cursor_round_trip_and_tampering() -> None:
    sort = Sort("name", descending=True)
    cursor = encode_cursor(sort, "某单位", 42)
    assert decode_cursor(UNITS, sort, cursor) == ("某单位", 42)
    for bad in ("!!", "e30", encode_cursor(Sort(), 1, 2)):
        with pytest.raises(InvalidInput):
            decode_cursor(UNITS, sort, bad)


def test_geometries_convert_to_gcj02_in_one_pass() -> None:
    texts = ['{"type":"Point","coordinates":[116.4,39.9]}']
    assert geometries_in_crs(texts, CoordSystem.WGS84) is texts
    (converted,) = geometries_in_crs(texts, CoordSystem.GCJ02)
    lon, lat = json.loads(converted)["coordinates"]
    assert (lon, lat) == pytest.approx(convert(116.4, 39.9, "wgs84", "gcj02"), abs=1e-9)


def test_scope_clause_is_always_part_of_the_query() -> None:
    officer = Actor(user_id=1, username="o", role=Role.OFFICER,
                    scope=Scope(ScopeKind.PRECINCT, 7))  # fmt: skip
    sql = " ".join(
        str(c.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        for c in conditions(UNITS, officer, FeatureQuery(q="学"))
    )
    assert "units.precinct_id = 7" in sql
    auditor = Actor(user_id=2, username="a", role=Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        conditions(UNITS, auditor, FeatureQuery())


def test_unit_user_lists_only_its_unit(session_factory: sessionmaker[Session], city: None) -> None:
    actor = Actor(user_id=3, username="u", role=Role.UNIT, scope=Scope(ScopeKind.UNIT, 5))
    with session_factory() as session:
        page = list_features(session=session, spec=UNITS, actor=actor, query=FeatureQuery())
        other = list_features(session=session, spec=get_layer("parks"), actor=actor,
                              query=FeatureQuery())  # fmt: skip
    assert [f.id for f in page.features] == [5] and other.features == []

"""Who runs the demo city's public transport: metro companies, the rail builder, bus fleets.

The first units of the demo are Beijing's real transit companies at their rough places:
北京京港地铁 runs line 4, 北京市地铁运营 every other line (a transfer station with line 4
has both), 北京市轨道交通建设管理 the rail construction sites; each bus stop belongs to the
nearest fleet (车队) of 北京公交集团 among the generated transit units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Company:
    """A named transit company of the demo: its name, address and place (WGS84)."""

    name: str
    address: str
    lon: float
    lat: float


METRO = Company("北京市地铁运营有限公司", "北京市西城区复兴门内大街", 116.3560, 39.9071)
MTR = Company("北京京港地铁有限公司", "北京市西城区西直门外大街", 116.3518, 39.9410)
RAIL_BUILDER = Company("北京市轨道交通建设管理有限公司", "北京市西城区南礼士路", 116.3497, 39.9152)
COMPANIES = (METRO, MTR, RAIL_BUILDER)
MTR_LINES = ("4号线",)
BUS_FLEETS = "北京公交集团%车队"  # the generated fleets' names (layers.demo.units)


def name_transit_companies(columns: dict[str, Any], lon: Any, lat: Any) -> None:
    """Make the first generated units the named companies, in place (as many as fit)."""
    for row, company in enumerate(COMPANIES[: len(lon)]):
        columns["name"][row], columns["address"][row] = company.name, company.address
        columns["category"][row], columns["is_key_unit"][row] = "transit_operator", True
        lon[row], lat[row] = company.lon, company.lat


_RAIL = """
INSERT INTO feature_operators (unit_id, layer, feature_id)
SELECT DISTINCT u.id, 'rail_stations', s.id
FROM rail_stations AS s CROSS JOIN LATERAL unnest(s.lines) AS line
JOIN units AS u ON u.category = 'transit_operator'
 AND u.name = CASE WHEN line = ANY(CAST(:mtr_lines AS text[])) THEN :mtr ELSE :metro END
"""
_RAIL_SITES = """
INSERT INTO feature_operators (unit_id, layer, feature_id)
SELECT u.id, 'construction_sites', c.id
FROM construction_sites AS c JOIN units AS u
  ON u.category = 'transit_operator' AND u.name = :builder
WHERE c.is_rail
"""
# Nearest neighbours on an indexed copy of the few fleets, not on every unit.
_FLEETS = """
CREATE TEMPORARY TABLE demo_fleets ON COMMIT DROP AS
SELECT id, geom FROM units WHERE category = 'transit_operator' AND name LIKE :fleets;
CREATE INDEX ON demo_fleets USING gist (geom);
ANALYZE demo_fleets
"""
_STOPS = """
INSERT INTO feature_operators (unit_id, layer, feature_id)
SELECT f.id, 'bus_stations', b.id
FROM bus_stations AS b
CROSS JOIN LATERAL (SELECT id FROM demo_fleets ORDER BY geom <-> b.geom LIMIT 1) AS f
"""


def load_demo_operators(session: Session) -> int:
    """Record who operates the demo's stations, stops and rail sites; return the pairs made."""
    session.execute(text("DELETE FROM feature_operators"))
    params = {"mtr_lines": list(MTR_LINES), "mtr": MTR.name, "metro": METRO.name,
              "builder": RAIL_BUILDER.name, "fleets": BUS_FLEETS}  # fmt: skip
    for statement in (_RAIL, _RAIL_SITES, *_FLEETS.split(";"), _STOPS):
        session.execute(text(statement), params)
    return int(session.scalar(text("SELECT count(*) FROM feature_operators")) or 0)

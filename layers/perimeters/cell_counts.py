"""The units' counts per H3 cell (``unit_cell_counts``), counted anew from the units.

A statement trigger keeps the counts through every write of ``units`` (migration
0031); a bulk import that swaps a new table in under the layer's name writes rows no
trigger saw, and counts them anew here in its own transaction.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_RECOUNT = """
INSERT INTO unit_cell_counts (h3_cell, category, risk_level, district_id, precinct_id, n)
SELECT h3_cell, category, risk_level, coalesce(district_id, -1), coalesce(precinct_id, -1),
       count(*)
FROM units WHERE h3_cell IS NOT NULL GROUP BY 1, 2, 3, 4, 5
"""


def recount_unit_cells(session: Session) -> None:
    """Replace every unit cell count by a count of the units as they are now."""
    session.execute(text("DELETE FROM unit_cell_counts"))
    session.execute(text(_RECOUNT))

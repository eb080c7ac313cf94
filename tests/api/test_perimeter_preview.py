"""An unsaved perimeter's contents (POST /api/perimeters/preview): what saving it would show,
with nothing stored."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from tests.utils.perimeters import busy_place, create_perimeter, perimeter_body
from tests.utils.users import bearer, make_user

_STORED = "SELECT (SELECT count(*) FROM perimeters) + (SELECT count(*) FROM perimeter_cells)"


def _stored(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(text(_STORED)) or 0)


def test_a_preview_counts_what_the_saved_perimeter_counts_and_stores_nothing(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct, centre = busy_place(session)
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    body = perimeter_body(centre, name="预览")
    before = _stored(session_factory)
    response = client.post("/api/perimeters/preview", json=body, headers=planner,
                           params={"layers": "units,hazards", "limit": 3})  # fmt: skip
    assert response.status_code == 200, response.text
    preview: dict[str, Any] = response.json()
    assert _stored(session_factory) == before  # rolled back: no perimeter, no cells
    assert [s["kind"] for s in preview["shapes"]] == ["core", "control", "outer"]
    assert all(s["geometry"]["type"] == "MultiPolygon" for s in preview["shapes"])

    saved = create_perimeter(client, planner, body)
    contents = client.get(f"/api/perimeters/{saved['id']}/contents", headers=planner,
                          params={"layers": "units,hazards", "limit": 3}).json()  # fmt: skip
    assert preview["rings"] == contents["rings"]
    assert all(r["layers"]["units"]["count"] > 0 for r in preview["rings"])

    # a precinct's commander sees its units only, in the preview as in the saved contents
    here = Jurisdiction(precinct_code=precinct.code)
    officer = bearer(client, make_user(session_factory, Role.COMMANDER, here))
    mine = client.post("/api/perimeters/preview", json=body, headers=officer).json()
    theirs = client.get(f"/api/perimeters/{saved['id']}/contents", headers=officer).json()
    assert mine["rings"] == theirs["rings"]


def test_a_preview_refuses_what_a_save_refuses(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct, centre = busy_place(session)
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    bowtie = {"type": "Polygon", "coordinates": [[
        [centre.x, centre.y], [centre.x + 0.01, centre.y + 0.01], [centre.x + 0.01, centre.y],
        [centre.x, centre.y + 0.01], [centre.x, centre.y]]]}  # fmt: skip
    body = perimeter_body(centre, rings=[{"kind": "core", "polygon": bowtie}])
    response = client.post("/api/perimeters/preview", json=body, headers=planner)
    assert response.status_code == 422, response.text
    assert "core" in response.json()["detail"]
    here = Jurisdiction(precinct_code=precinct.code)
    officer = bearer(client, make_user(session_factory, Role.OFFICER, here))
    refused = client.post("/api/perimeters/preview", json=perimeter_body(centre), headers=officer)
    assert refused.status_code == 403

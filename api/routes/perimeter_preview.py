"""What a perimeter being drawn would hold, before it is saved (the planner's live counts)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from shapely.geometry import mapping

from api.deps import CrsDep, CurrentActor, SessionDep, SettingsDep
from api.routes.perimeter_contents import LayersParam, layer_names, ring_json_pieces
from api.routes.perimeters import PERIMETER_WRITERS, ring_limits
from api.schemas.perimeters import PerimeterIn
from api.slots import QuerySlotsDep
from layers.perimeters.preview import preview_contents

router = APIRouter(prefix="/api/perimeters", tags=["perimeters"])


@router.post("/preview", dependencies=[Depends(PERIMETER_WRITERS)])
def preview_perimeter_contents(
    body: PerimeterIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, slots: QuerySlotsDep, layers: LayersParam = None,
    limit: Annotated[int | None, Query(ge=0, le=1000, description="features per ring and layer")]
    = None,
) -> Response:  # fmt: skip
    """Return the rings of an unsaved perimeter and what each would hold; nothing is stored.

    The answer is the one ``GET /api/perimeters/{id}/contents`` gives once the same
    perimeter is saved, with each ring's shape (WGS84) beside it.
    """
    page_size = settings.perimeters.page_size if limit is None else limit
    with slots.hold(actor.username):
        rings, contents = preview_contents(
            session=session, draft=body.to_domain(), actor=actor, limits=ring_limits(settings),
            layers=layer_names(layers), page_size=page_size, zone=settings.zone, crs=crs,
        )  # fmt: skip
    shapes = json.dumps([{"kind": r.kind.value, "geometry": mapping(r.shape)} for r in rings],
                        separators=(",", ":"))  # fmt: skip
    pieces = [f'{{"shapes":{shapes},"rings":['.encode()]
    for i, ring in enumerate(contents):
        pieces += [b"," if i else b"", *ring_json_pieces(ring)]
    pieces.append(b"]}")
    return Response(b"".join(pieces), media_type="application/json")

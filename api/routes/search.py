"""One search box across layers: names, addresses, plates and codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.access import FEATURE_READERS
from api.deps import CrsDep, CurrentActor, SessionDep
from geo.crs import CoordSystem, convert
from layers.features.registry import REGISTRY, all_layers, get_layer
from layers.features.search import COUNT_CAP, search_features

router = APIRouter(prefix="/api/search", tags=["search"], dependencies=[Depends(FEATURE_READERS)])


class SearchHitPublic(BaseModel):
    """A matching feature, where it is, and how well it matched."""

    layer: str
    layer_title: str
    id: int
    name: str
    matched: str
    score: float
    location: tuple[float, float]


class SearchResults(BaseModel):
    """Matches across layers, best first, and how many there are."""

    data: list[SearchHitPublic]
    count: int = Field(description="Features matched; at least this many unless count_is_exact.")
    count_is_exact: bool = Field(description=f"False when a layer matched over {COUNT_CAP}.")
    returned: int = Field(description="Hits in data (at most limit).")


@router.get("")
def search(
    session: SessionDep, actor: CurrentActor, crs: CrsDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    layers: Annotated[str | None, Query(max_length=500, description="a,b; all by default")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResults:  # fmt: skip
    """Return features whose name, address, plate or code contains ``q``, ranked."""
    specs = (
        tuple(get_layer(name.strip()) for name in layers.split(",") if name.strip())
        if layers else all_layers()
    )  # fmt: skip
    found = search_features(session=session, actor=actor, q=q, specs=specs, limit=limit)
    data = []
    for hit in found.hits:
        lon, lat = hit.lon, hit.lat
        if crs is not CoordSystem.WGS84:
            lon, lat = convert(lon, lat, CoordSystem.WGS84, crs)
        data.append(SearchHitPublic(
            layer=hit.layer, layer_title=REGISTRY[hit.layer].title, id=hit.id, name=hit.name,
            matched=hit.matched, score=hit.score, location=(round(lon, 7), round(lat, 7)),
        ))  # fmt: skip
    return SearchResults(data=data, count=found.matched, count_is_exact=found.exact,
                         returned=len(data))  # fmt: skip

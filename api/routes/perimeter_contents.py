"""What a perimeter's rings hold, and acting on it: tasks, a notice, an export."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api.access import requires
from api.deps import CrsDep, CurrentActor, SessionDep, SettingsDep
from api.downloads import labelled_download
from api.routes.perimeters import PerimeterId
from api.routes.records import created
from api.schemas.actions import NoticeTemplateIn, TasksMade, TaskTemplateIn
from api.schemas.geojson import collection_pieces
from api.schemas.records import RecordPublic
from api.slots import QuerySlotsDep
from importers.labelled import LabelledRow, check_format
from layers.accounts.roles import Permission
from layers.perimeters.actions import create_tasks, notify_units
from layers.perimeters.contents import (
    LayerContent,
    RingContent,
    content_rows,
    perimeter_contents,
    ring_ids,
)
from layers.perimeters.rings import RING_TITLES, RingKind
from layers.perimeters.sources import CONTENT_LAYERS, layer_title
from layers.records.catalog import KINDS
from layers.records.refs import FeatureRef
from layers.records.service import MAX_LINKS

PERIMETER_READERS = requires(Permission.PERIMETERS_READ)
RING_TASK_CREATORS = requires(
    Permission.PERIMETERS_READ, Permission.RECORDS_WRITE, roles=KINDS["task"].creators
)
RING_NOTICE_SENDERS = requires(
    Permission.PERIMETERS_READ, Permission.RECORDS_WRITE, roles=KINDS["notice"].creators
)
router = APIRouter(prefix="/api/perimeters/{perimeter_id}", tags=["perimeters"])
LayersParam = Annotated[
    str | None, Query(max_length=300, description=f"comma-separated: {','.join(CONTENT_LAYERS)}")
]


class RingTasksIn(BaseModel):
    """Tasks about every unit in ``rings`` (all rings when empty), from a template."""

    model_config = ConfigDict(extra="forbid")

    rings: list[RingKind] = Field(default_factory=list, max_length=3)
    task: TaskTemplateIn


class RingNoticeIn(BaseModel):
    """A notice to every unit in ``rings`` (all rings when empty)."""

    model_config = ConfigDict(extra="forbid")

    rings: list[RingKind] = Field(default_factory=list, max_length=3)
    notice: NoticeTemplateIn


def layer_names(text: str | None) -> list[str]:
    """Return the layer ids of a comma-separated ``layers`` parameter (none: every layer)."""
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _layer_pieces(content: LayerContent) -> list[bytes]:
    head = json.dumps({"title": content.title, "count": content.count, "groups": content.groups},
                      ensure_ascii=False, separators=(",", ":"))  # fmt: skip
    shown = len(content.features)
    collection = collection_pieces(content.features, numberReturned=shown,
                                   truncated=content.count > shown)  # fmt: skip
    return [f'{head[:-1]},"features":'.encode(), *collection, b"}"]


def ring_json_pieces(ring: RingContent) -> list[bytes]:
    """Return one ring's contents as pieces of JSON, its features written as they are stored."""
    head = json.dumps({"kind": ring.kind.value, "title": ring.title,
                       "area_m2": round(ring.area_m2, 1)}, ensure_ascii=False)  # fmt: skip
    pieces = [f'{head[:-1]},"layers":{{'.encode()]
    for i, (layer_id, content) in enumerate(ring.layers.items()):
        pieces += [f'{"," if i else ""}"{layer_id}":'.encode(), *_layer_pieces(content)]
    return [*pieces, b"}}"]


@router.get("/contents", dependencies=[Depends(PERIMETER_READERS)])
def read_perimeter_contents(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, slots: QuerySlotsDep, layers: LayersParam = None,
    limit: Annotated[int | None, Query(ge=0, le=1000, description="features per ring and layer")]
    = None,
) -> Response:  # fmt: skip
    """Return, per ring (innermost first, each an annulus) and layer, the count and first features.

    Units are also counted by ``category`` and ``risk_level``; construction sites and
    incidents count when active in the perimeter's window, activities when their period
    meets it, hazards while open. Only what you may see is counted.
    """
    page_size = settings.perimeters.page_size if limit is None else limit
    with slots.hold(actor.username):
        perimeter, rings = perimeter_contents(
            session=session, perimeter_id=perimeter_id, actor=actor, layers=layer_names(layers),
            page_size=page_size, zone=settings.zone, crs=crs,
        )  # fmt: skip
    head = json.dumps({"id": perimeter.id, "name": perimeter.name, "version": perimeter.version,
                       "starts_at": perimeter.starts_at.isoformat(),
                       "ends_at": perimeter.ends_at.isoformat()}, ensure_ascii=False)  # fmt: skip
    pieces = [f'{{"perimeter":{head},"rings":['.encode()]
    for i, ring in enumerate(rings):
        pieces += [b"," if i else b"", *ring_json_pieces(ring)]
    pieces.append(b"]}")
    return Response(b"".join(pieces), media_type="application/json",
                    headers={"ETag": f'"{perimeter.version}"'})  # fmt: skip


@router.post("/tasks", dependencies=[Depends(RING_TASK_CREATORS)], status_code=201)
def create_perimeter_tasks(
    perimeter_id: PerimeterId, body: RingTasksIn, session: SessionDep, actor: CurrentActor,
    settings: SettingsDep,
) -> TasksMade:  # fmt: skip
    """Create a task for each unit in the rings (or one about them all), from a template."""
    by_ring = ring_ids(session=session, perimeter_id=perimeter_id, actor=actor,
                       layer_id="units", zone=settings.zone, rings=body.rings,
                       limit=MAX_LINKS)  # fmt: skip
    features = [FeatureRef("units", i) for ids in by_ring.values() for i in ids]
    ids = create_tasks(session=session, template=body.task.to_domain(), features=features,
                       actor=actor)  # fmt: skip
    return TasksMade(ids=ids, count=len(ids))


@router.post("/notices", dependencies=[Depends(RING_NOTICE_SENDERS)], status_code=201)
def create_perimeter_notice(
    perimeter_id: PerimeterId, body: RingNoticeIn, session: SessionDep, actor: CurrentActor,
    settings: SettingsDep, response: Response,
) -> RecordPublic:  # fmt: skip
    """Send a notice to every unit in the rings; its receipts are the notice's own."""
    by_ring = ring_ids(session=session, perimeter_id=perimeter_id, actor=actor,
                       layer_id="units", zone=settings.zone, rings=body.rings,
                       limit=MAX_LINKS)  # fmt: skip
    units = [i for ids in by_ring.values() for i in ids]
    record, _ = notify_units(session=session, template=body.notice.to_domain(), unit_ids=units,
                             actor=actor)  # fmt: skip
    return created(session, record, actor, response, "/api/notices")


@router.get("/export", dependencies=[Depends(PERIMETER_READERS)])
def read_perimeter_export(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    slots: QuerySlotsDep, format: Annotated[str, Query(max_length=10)] = "geojson",
    layers: LayersParam = None,
) -> FileResponse:  # fmt: skip
    """Download the contents: every feature with its ring and layer (geojson, kml, csv, xlsx).

    CSV is UTF-8 with a BOM, so Excel shows the Chinese text; coordinates are WGS84.
    """
    check_format(format)
    with slots.hold(actor.username):
        rows = content_rows(session=session, perimeter_id=perimeter_id, actor=actor,
                            layers=layer_names(layers), zone=settings.zone,
                            limit=settings.perimeters.max_export_rows)  # fmt: skip
    labelled = [
        LabelledRow({"ring": row.ring.value, "ring_title": RING_TITLES[row.ring],
                     "layer": row.layer, "layer_title": layer_title(row.layer)},
                    row.feature)
        for row in rows
    ]  # fmt: skip
    return labelled_download(labelled, format, f"perimeter-{perimeter_id}")

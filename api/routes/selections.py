"""Map selections (ids, box, lasso, radius) and what to do with one: tasks, a notice, a file,
a perimeter's ring."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from api.access import FEATURE_READERS, creators_of, requires
from api.deps import CrsDep, CurrentActor, SessionDep, SettingsDep, if_match_version
from api.downloads import labelled_download
from api.routes.perimeters import IfMatch, ring_limits, to_public
from api.routes.records import created
from api.schemas.actions import TasksMade
from api.schemas.perimeters import PerimeterPublic
from api.schemas.records import RecordPublic
from api.schemas.selections import (
    MapSelectionIn,
    SelectedLayer,
    SelectionExport,
    SelectionNotice,
    SelectionPublic,
    SelectionQuery,
    SelectionRing,
    SelectionTasks,
)
from api.schemas.spatial import to_wgs84
from api.slots import QuerySlotsDep
from geo.crs import CoordSystem
from importers.labelled import LabelledRow, check_format
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.selection import Picked, pick
from layers.features.spatial import Region, region_around, region_of
from layers.perimeters.actions import create_tasks, notify_units
from layers.perimeters.rings import RingDraft
from layers.perimeters.service import add_ring
from layers.perimeters.sources import layer_title, rows_of
from layers.records.catalog import KINDS
from layers.records.refs import FeatureRef
from layers.records.service import MAX_LINKS
from layers.settings import Settings

TASK_CREATORS = creators_of(KINDS["task"])
NOTICE_SENDERS = creators_of(KINDS["notice"])
PERIMETER_WRITERS = requires(Permission.PERIMETERS_WRITE)
router = APIRouter(prefix="/api/selections", tags=["selections"])


def _region(body: MapSelectionIn, settings: Settings, crs: CoordSystem) -> Region | None:
    shaped = body.shape()
    if shaped is None:
        return None
    geom, radius_m = to_wgs84(shaped[0], crs), shaped[1]
    max_vertices = settings.features.max_vertices
    if radius_m is None:
        return region_of(geom, max_vertices=max_vertices)
    return region_around(geom, radius_m, max_vertices=max_vertices)


def _all_of(
    session: Session, actor: Actor, settings: Settings, crs: CoordSystem, slots: QuerySlotsDep,
    body: MapSelectionIn, limit: int, what: str,
) -> list[Picked]:  # fmt: skip
    """Return every feature of a selection, or raise when there are more than ``limit``."""
    selection = body.to_domain(_region(body, settings, crs))
    with slots.hold(actor.username):
        picked = pick(session=session, actor=actor, selection=selection, limit=limit)
    total = sum(p.count for p in picked)
    if total > limit:
        raise InvalidInput(f"the selection holds {total:,} features, more than the {limit:,} "
                           f"{what}; narrow it")  # fmt: skip
    return picked


@router.post("", dependencies=[Depends(FEATURE_READERS)])
def create_selection(
    body: SelectionQuery, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, slots: QuerySlotsDep,
) -> SelectionPublic:  # fmt: skip
    """Return, per layer, how many features the selection holds and their ids (smallest first).

    ``crs`` is the system of the box, lasso or point.
    """
    selection = body.to_domain(_region(body, settings, crs))
    with slots.hold(actor.username):
        picked = pick(session=session, actor=actor, selection=selection, limit=body.limit)
    layers = {p.layer: SelectedLayer(count=p.count, ids=p.ids, truncated=p.truncated)
              for p in picked}  # fmt: skip
    return SelectionPublic(layers=layers, count=sum(p.count for p in picked))


@router.post("/tasks", dependencies=[Depends(TASK_CREATORS)], status_code=201)
def create_selection_tasks(
    body: SelectionTasks, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, slots: QuerySlotsDep,
) -> TasksMade:  # fmt: skip
    """Create a task for each selected feature (or one about them all), from a template."""
    picked = _all_of(session, actor, settings, crs, slots, body.selection, MAX_LINKS,
                     "a task may concern")  # fmt: skip
    features = [FeatureRef(p.layer, i) for p in picked for i in p.ids]
    ids = create_tasks(session=session, template=body.task.to_domain(), features=features,
                       actor=actor)  # fmt: skip
    return TasksMade(ids=ids, count=len(ids))


@router.post("/notices", dependencies=[Depends(NOTICE_SENDERS)], status_code=201)
def create_selection_notice(
    body: SelectionNotice, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, slots: QuerySlotsDep, response: Response,
) -> RecordPublic:  # fmt: skip
    """Send a notice to every selected unit."""
    if "units" not in body.selection.layers:
        raise InvalidInput("notices go to units: select the layer 'units'")
    picked = _all_of(session, actor, settings, crs, slots, body.selection, MAX_LINKS,
                     "units a notice may name")  # fmt: skip
    units = [i for p in picked if p.layer == "units" for i in p.ids]
    record, _ = notify_units(session=session, template=body.notice.to_domain(), unit_ids=units,
                             actor=actor)  # fmt: skip
    return created(session, record, actor, response, "/api/notices")


@router.post("/export", dependencies=[Depends(FEATURE_READERS)])
def create_selection_export(
    body: SelectionExport, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, slots: QuerySlotsDep,
    format: Annotated[str, Query(max_length=10)] = "geojson",
) -> FileResponse:  # fmt: skip
    """Download the selected features with their layer (geojson, kml, csv, xlsx; WGS84)."""
    check_format(format)
    picked = _all_of(session, actor, settings, crs, slots, body.selection,
                     settings.perimeters.max_export_rows, "an export may hold")  # fmt: skip
    rows = [
        LabelledRow({"layer": p.layer, "layer_title": layer_title(p.layer)}, feature)
        for p in picked
        for feature in rows_of(session, actor, p.layer, p.ids, CoordSystem.WGS84)
    ]  # fmt: skip
    return labelled_download(rows, format, "selection")


@router.post("/perimeter", dependencies=[Depends(PERIMETER_WRITERS)])
def create_selection_ring(
    body: SelectionRing, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, response: Response, if_match: IfMatch = None,
) -> PerimeterPublic:  # fmt: skip
    """Add a box, lasso or radius selection's shape to a perimeter as its ring ``kind``.

    A new version of the perimeter (``If-Match``: its version); a ring of that kind is
    replaced.
    """
    shaped = body.selection.shape()
    if shaped is None:
        raise InvalidInput("a selection by ids has no shape; select with a box, lasso or radius")
    ring = RingDraft(body.kind, to_wgs84(shaped[0], crs), shaped[1])
    perimeter = add_ring(session=session, perimeter_id=body.perimeter_id, ring=ring,
                         expected_version=if_match_version(if_match), actor=actor,
                         limits=ring_limits(settings))  # fmt: skip
    session.refresh(perimeter)
    return to_public(session, perimeter, response)

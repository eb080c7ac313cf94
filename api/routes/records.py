"""Records on features: a feature's timeline, and create/read/transition per record kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from api.access import RECORD_READERS, RECORD_WRITERS, creators_of
from api.deps import (
    BBoxDep,
    CurrentActor,
    LayerDep,
    LimitDep,
    RevealDep,
    SessionDep,
    if_match_version,
)
from api.schemas.attachments import AttachmentPublic
from api.schemas.records import (
    ActionPublic,
    BulkCreate,
    BulkCreated,
    CommentIn,
    CommentPublic,
    FeatureRecordsPublic,
    FeatureRefIn,
    RecordCreate,
    RecordPublic,
    RecordsPublic,
    RiskPublic,
    TransitionIn,
    TransitionPublic,
)
from api.schemas.values import Instant
from layers.accounts.scope import Actor
from layers.records.approvals import take_step
from layers.records.attachments import attachments_of
from layers.records.bulk import create_per_feature
from layers.records.catalog import KINDS, get_kind
from layers.records.comments import add_comment, comments_of
from layers.records.hazards import risk_of
from layers.records.kinds import RecordKind
from layers.records.models import Record
from layers.records.personal import find_records, reveal_details, shown_details
from layers.records.reading import active_records, feature_timeline, history_of
from layers.records.service import (
    allowed_steps,
    create_record,
    links_of,
    read_record,
)

router = APIRouter(tags=["records"])

# Where each kind's own routes live; scored forms are created by api/routes/forms.py,
# notices by api/routes/notices.py.
KIND_PATHS = {
    "approval": "/api/approvals", "case": "/api/cases",
    "task": "/api/tasks", "hazard": "/api/hazards", "activity": "/api/activities",
    "construction_start": "/api/construction-starts", "clue": "/api/clues",
    "staff_registration": "/api/staff-registrations", "police_support": "/api/police-support",
}  # fmt: skip
FORM_PATHS = {"inspection": "/api/inspections", "self_check": "/api/self-checks",
              "assessment": "/api/assessments"}  # fmt: skip
Names = Annotated[list[str] | None, Query(max_length=20)]
PERIOD_KINDS = ("activity", "construction_start", "police_support")


def to_public(record: Record, kind: RecordKind) -> RecordPublic:
    """Return the summary of a record, as timelines list it."""
    point = to_shape(record.geom).coords[0] if record.geom is not None else None
    return RecordPublic(
        id=record.id, kind=record.kind, topic=record.topic, state=record.state,
        state_title=kind.workflow.titles.get(record.state, record.state), title=record.title,
        priority=record.priority, due_at=record.due_at, starts_at=record.starts_at,
        ends_at=record.ends_at, details=shown_details(record, kind),
        location=(point[0], point[1]) if point is not None else None,
        district_id=record.district_id, precinct_id=record.precinct_id, version=record.version,
        created_at=record.created_at, updated_at=record.updated_at,
    )  # fmt: skip


def to_full(
    session: Session, record: Record, actor: Actor, response: Response, *, reveal: bool = False
) -> RecordPublic:
    """Return a record with its features, history, files and the actions the reader may take."""
    kind = get_kind(record.kind)
    response.headers["ETag"] = f'"{record.version}"'
    public = to_public(record, kind)
    if reveal:
        public.details = reveal_details(session=session, record=record, kind=kind, actor=actor)
    public.features = [FeatureRefIn(layer=f.layer, id=f.id) for f in links_of(session, record.id)]
    public.history = [
        TransitionPublic(action=t.action, from_state=t.from_state, to_state=t.to_state,
                         actor=t.actor_name, at=t.at, note=t.note)
        for t in history_of(session, record.id)
    ]  # fmt: skip
    public.comments = [CommentPublic(author=c.actor_name, at=c.at, body=c.body)
                       for c in comments_of(session, record.id)]  # fmt: skip
    public.attachments = [AttachmentPublic.of(a) for a in attachments_of(session, record.id)]
    public.actions = [
        ActionPublic(action=s.action, title=s.title, to_state=s.target)
        for s in allowed_steps(record, kind, actor)
    ]
    return public


@router.get(
    "/api/layers/{layer}/features/{feature_id}/records", dependencies=[Depends(RECORD_READERS)]
)
def list_feature_records(
    spec: LayerDep, feature_id: int, session: SessionDep, actor: CurrentActor, limit: LimitDep,
    kind: Names = None, state: Names = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> FeatureRecordsPublic:  # fmt: skip
    """Return a feature's records of every kind, newest first, and its open hazards."""
    for name in kind or ():
        get_kind(name)
    page = feature_timeline(
        session=session, spec=spec, feature_id=feature_id, actor=actor,
        kinds=kind or (), states=state or (), limit=limit, cursor=cursor,
    )  # fmt: skip
    data = [to_public(r, KINDS[r.kind]) for r in page.records]
    risk = risk_of(session, spec.id, feature_id)
    return FeatureRecordsPublic(
        data=data, count=len(data), next=page.next_cursor,
        risk=RiskPublic(open_hazards=risk.open_hazards if risk else 0,
                        hazard_level=risk.hazard_level if risk else 0),
    )  # fmt: skip


@router.get("/api/records/active", dependencies=[Depends(RECORD_READERS)])
def list_active_records(
    session: SessionDep, actor: CurrentActor, bbox: BBoxDep, limit: LimitDep,
    kind: Names = None, at: Instant | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Return, as GeoJSON points, the open records whose period holds ``at`` (default now).

    Kinds with a period: activities, construction starts, police support (``?kind=``).
    """
    kinds = [get_kind(name) for name in kind or PERIOD_KINDS]
    records = active_records(session=session, actor=actor, kinds=kinds,
                             at=at or datetime.now(UTC), bbox=bbox, limit=limit)  # fmt: skip
    features = [
        {"type": "Feature", "id": r.id,
         "geometry": {"type": "Point", "coordinates": list(to_shape(r.geom).coords[0])},
         "properties": to_public(r, KINDS[r.kind]).model_dump(mode="json", exclude={"location"})}
        for r in records if r.geom is not None
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}


@router.get("/api/records/{record_id}", dependencies=[Depends(RECORD_READERS)])
def read_any_record(
    record_id: int, session: SessionDep, actor: CurrentActor, response: Response,
    reveal: RevealDep = False,
) -> RecordPublic:  # fmt: skip
    """Return one record of any kind with its features, history and allowed actions."""
    record = read_record(session=session, record_id=record_id, actor=actor)
    return to_full(session, record, actor, response, reveal=reveal)


@router.post(
    "/api/records/{record_id}/comments", dependencies=[Depends(RECORD_READERS)], status_code=201
)
def create_record_comment(
    record_id: int, body: CommentIn, session: SessionDep, actor: CurrentActor, response: Response
) -> RecordPublic:
    """Add a remark to a record (its creator and assignees find it in their inbox)."""
    add_comment(session=session, record_id=record_id, body=body.body, actor=actor)
    record = read_record(session=session, record_id=record_id, actor=actor)
    return to_full(session, record, actor, response)


def created(
    session: Session, record: Record, actor: Actor, response: Response, prefix: str
) -> RecordPublic:
    """Return a new record as its create route answers, with its Location."""
    response.headers["Location"] = f"{prefix}/{record.id}"
    return to_full(session, record, actor, response)


def waiting(session: Session, approval: Record, actor: Actor) -> JSONResponse:
    """Return 202 with the approval a change now waits for, and where to follow it."""
    response = Response()
    body = to_full(session, approval, actor, response).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={
        "Location": f"/api/approvals/{approval.id}", "ETag": response.headers["ETag"],
    })  # fmt: skip


def kind_router(kind: RecordKind, prefix: str, *, generic_create: bool = True) -> APIRouter:
    """Return the read and transition routes of one record kind under ``prefix``.

    With ``generic_create`` also the create route taking the kind's details as given;
    kinds whose details the server computes (scored forms) have a create route of their own.
    """
    routes = APIRouter(prefix=prefix, tags=[kind.id])

    if generic_create:

        @routes.post("", dependencies=[Depends(creators_of(kind))], status_code=201)
        def create_of_kind(
            body: RecordCreate, session: SessionDep, actor: CurrentActor, response: Response
        ) -> RecordPublic:
            record = create_record(session=session, kind=kind, new=body.to_domain(), actor=actor)
            return created(session, record, actor, response, prefix)

        @routes.post("/bulk", dependencies=[Depends(creators_of(kind))], status_code=201)
        def create_many_of_kind(
            body: BulkCreate, session: SessionDep, actor: CurrentActor
        ) -> BulkCreated:
            if body.one_per_feature:
                ids = create_per_feature(session=session, kind=kind, new=body.to_domain(),
                                         actor=actor)  # fmt: skip
            else:
                ids = [create_record(session=session, kind=kind, new=body.to_domain(),
                                     actor=actor).id]  # fmt: skip
            return BulkCreated(ids=ids, count=len(ids))

        create_of_kind.__doc__ = f"Create a {kind.id} about one or more features."
        create_many_of_kind.__doc__ = (
            f"Create a {kind.id} for each of up to 5,000 features, or one for them all."
        )

    if kind.personal:

        @routes.get("", dependencies=[Depends(RECORD_READERS)])
        def find_of_kind(
            session: SessionDep, actor: CurrentActor, limit: LimitDep,
            field: Annotated[str, Query(max_length=32)],
            value: Annotated[str, Query(min_length=1, max_length=64)],
        ) -> RecordsPublic:  # fmt: skip
            found = find_records(session=session, kind=kind, field=field, value=value,
                                 actor=actor, limit=limit)  # fmt: skip
            return RecordsPublic(data=[to_public(r, kind) for r in found], count=len(found),
                                 next=None)  # fmt: skip

        find_of_kind.__doc__ = (
            f"Return the {kind.id} records whose {', '.join(kind.personal)} (``field``) equals "
            "``value`` exactly, found by blind index; personal values masked."
        )

    @routes.get("/{record_id}", dependencies=[Depends(RECORD_READERS)])
    def read_of_kind(
        record_id: int, session: SessionDep, actor: CurrentActor, response: Response,
        reveal: RevealDep = False,
    ) -> RecordPublic:  # fmt: skip
        record = read_record(session=session, record_id=record_id, actor=actor, kind=kind)
        return to_full(session, record, actor, response, reveal=reveal)

    @routes.post(
        "/{record_id}/transitions",
        dependencies=[Depends(RECORD_WRITERS)],
        response_model=RecordPublic,
        responses={202: {"description": "the step waits for an approval"}},
    )
    def transition_of_kind(
        record_id: int, body: TransitionIn, session: SessionDep, actor: CurrentActor,
        response: Response, if_match: Annotated[str | None, Header(max_length=40)] = None,
    ) -> RecordPublic | JSONResponse:  # fmt: skip
        record = take_step(
            session=session, kind=kind, record_id=record_id, action=body.action,
            expected_version=if_match_version(if_match), actor=actor, note=body.note,
            details=body.details,
        )  # fmt: skip
        if record.kind != kind.id:
            return waiting(session, record, actor)
        return to_full(session, record, actor, response)

    read_of_kind.__doc__ = f"Return one {kind.id} with its features, history and actions."
    transition_of_kind.__doc__ = f"Take a workflow action on a {kind.id} (If-Match: version)."
    return routes


for _kind_id, _prefix in KIND_PATHS.items():
    router.include_router(kind_router(KINDS[_kind_id], _prefix))
for _kind_id, _prefix in {**FORM_PATHS, "notice": "/api/notices"}.items():
    router.include_router(kind_router(KINDS[_kind_id], _prefix, generic_create=False))

"""The unit portal's own routes (互联网子系统): home, organisation, unit details, records, join.

Everything else a unit does in the portal goes through the routes every client uses
(self-checks, hazards, attachments, staff registrations, notices, approvals): the
portal app (``warroom_ui.portal``) mounts those and these, and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from api.access import PUBLIC, Rule
from api.deps import CurrentActor, LimitDep, SessionDep, SettingsDep, client_of, if_match_version
from api.routes.features import to_public as feature_public
from api.routes.records import to_public, waiting
from api.schemas.notices import MessagePublic
from api.schemas.portal import (
    InvitationRedeem,
    OrganisationFeaturePublic,
    PortalHomePublic,
    PortalRecordsPublic,
    PortalUnitPublic,
    UnitAccountPublic,
    UnitEdit,
)
from layers.accounts.invitations import redeem_invitation
from layers.accounts.roles import Role
from layers.features.operators import reach_feature
from layers.features.registry import get_layer
from layers.portal import organisation, organisation_records, pending_edits, portal_home, unit_of
from layers.records.approvals import request_feature_update
from layers.records.catalog import KINDS

PORTAL_USERS = Rule("use the unit portal", frozenset({Role.UNIT}))
router = APIRouter(prefix="/api/portal", tags=["portal"])
Kinds = Annotated[list[str] | None, Query(max_length=20)]
EDITABLE = list(UnitEdit.model_fields)


@router.get("/home", dependencies=[Depends(PORTAL_USERS)])
def read_portal_home(session: SessionDep, actor: CurrentActor) -> PortalHomePublic:
    """Return the unit user's home page: to-dos, deadlines, latest notices and counts."""
    home = portal_home(session=session, actor=actor, now=datetime.now(UTC))
    return PortalHomePublic(
        organisation=[OrganisationFeaturePublic(**vars(f)) for f in home.organisation],
        open_hazards=home.open_hazards, overdue=home.overdue,
        pending_approvals=home.pending_approvals, unread_notices=home.unread_notices,
        todos=[to_public(r, KINDS[r.kind]) for r in home.todos],
        deadlines=[to_public(r, KINDS[r.kind]) for r in home.deadlines],
        notices=[MessagePublic(id=m.id, reason=m.reason, created_at=m.created_at,
                               read_at=m.read_at, record=to_public(r, KINDS[r.kind]))
                 for m, r in home.notices],
    )  # fmt: skip


@router.get("/units", dependencies=[Depends(PORTAL_USERS)])
def list_portal_units(session: SessionDep, actor: CurrentActor) -> list[OrganisationFeaturePublic]:
    """Return the user's unit, then what it operates (a chain's branches, a company's stations)."""
    return [
        OrganisationFeaturePublic(**vars(f)) for f in organisation(session=session, actor=actor)
    ]


@router.get("/unit", dependencies=[Depends(PORTAL_USERS)])
def read_portal_unit(
    session: SessionDep, actor: CurrentActor, response: Response,
    layer: Annotated[str, Query(max_length=32)] = "units",
    id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> PortalUnitPublic:  # fmt: skip
    """Return a feature of the organisation (default: the user's unit) and its pending edits."""
    spec = get_layer(layer)
    feature_id = id or unit_of(actor)
    feature = reach_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    response.headers["ETag"] = f'"{feature.version}"'
    pending = pending_edits(session=session, actor=actor, layer=spec.id, feature_id=feature_id)
    own = spec.id == "units" and feature_id == unit_of(actor)
    return PortalUnitPublic(
        layer=spec.id, id=feature.id, version=feature.version,
        properties=feature_public(spec, feature).properties,
        editable=EDITABLE if own else [],
        pending=[to_public(r, KINDS["approval"]) for r in pending],
    )  # fmt: skip


@router.patch(
    "/unit", dependencies=[Depends(PORTAL_USERS)], status_code=202,
    responses={202: {"description": "the edit waits for an officer's approval"}},
)  # fmt: skip
def update_portal_unit(
    body: UnitEdit, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> JSONResponse:  # fmt: skip
    """Propose new details of the user's own unit (If-Match: its version); an officer approves."""
    approval = request_feature_update(
        session=session, layer="units", feature_id=unit_of(actor),
        expected_version=if_match_version(if_match), actor=actor,
        properties=body.properties(), geometry=None,
        max_vertices=settings.features.max_vertices,
    )  # fmt: skip
    return waiting(session, approval, actor)


@router.get("/records", dependencies=[Depends(PORTAL_USERS)])
def list_portal_records(
    session: SessionDep, actor: CurrentActor, limit: LimitDep, kind: Kinds = None,
    open: bool = False, before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> PortalRecordsPublic:  # fmt: skip
    """Return the records about the organisation (``?kind=hazard&open=true``), newest first."""
    records = organisation_records(session=session, actor=actor, kinds=kind or (),
                                   open_only=open, limit=limit, before=before)  # fmt: skip
    more = len(records) == limit
    data = [to_public(r, KINDS[r.kind]) for r in records]
    return PortalRecordsPublic(data=data, count=len(data), next=records[-1].id if more else None)


@router.post("/join", dependencies=[Depends(PUBLIC)], status_code=201)
def join_portal(
    body: InvitationRedeem, request: Request, session: SessionDep, settings: SettingsDep,
) -> UnitAccountPublic:  # fmt: skip
    """Redeem a unit's invitation code: make its account with the username and password chosen."""
    user = redeem_invitation(session=session, code=body.code, username=body.username,
                             password=body.password, policy=settings.security,
                             client=client_of(request))  # fmt: skip
    return UnitAccountPublic(id=user.id, username=user.username, unit_id=user.unit_id or 0,
                             is_active=user.is_active, created_at=user.created_at)  # fmt: skip

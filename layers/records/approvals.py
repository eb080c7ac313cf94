"""Approvals (审批流程): a change that needs a second person waits as an approval record.

A unit user's edit of its unit, or an officer closing a high-level hazard, becomes an
``approval`` record linked to what it would change; nothing changes until someone with
an approving role decides. Approving applies the change through the usual door as its
requester (so versions, scope and audit hold), recording the approver. Everyone who may
decide an approval finds it in their inbox (``approval.pending``) as it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.accounts.service import actor_for
from layers.crypto.keys import key_ring_of
from layers.errors import Conflict, PermissionDenied
from layers.features.registry import all_layers, get_layer
from layers.features.service import get_feature, update_feature
from layers.records.kinds import OnEnter, RecordKind
from layers.records.messages import Recipient, send_messages
from layers.records.models import Record
from layers.records.personal import open_details
from layers.records.refs import FeatureRef
from layers.records.service import (
    NewRecord,
    check_step,
    create_record,
    filled_details,
    links_of,
    read_record,
    transition_record,
)
from layers.records.workflow import Party, Workflow, step

ChangeKind = Literal["feature_update", "record_transition"]


class ApprovalDetails(BaseModel):
    """The change waiting: what it is, on what, at which version, and who may approve it."""

    model_config = ConfigDict(extra="forbid")

    change: ChangeKind
    layer: str | None = None
    target_id: int
    expected_version: int
    payload: dict[str, Any]
    approver_roles: list[Role] = Field(min_length=1)


def applier(kind_of: Callable[[str], RecordKind]) -> OnEnter:
    """Return the hook applying an approved change; ``kind_of`` finds a record kind by id.

    The catalog wires it in (it lists the kinds whose steps an approval may hold).
    """

    def apply(session: Session, approval: Record, approver: Actor) -> None:
        _apply(session, approval, approver, kind_of)

    return apply


def _apply(
    session: Session, approval: Record, approver: Actor, kind_of: Callable[[str], RecordKind]
) -> None:
    """Apply an approved change as its requester; raise if the approver may not approve it."""
    plain = open_details(key_ring_of(session), approval.id, approval.details, APPROVAL.personal)
    details = ApprovalDetails.model_validate(plain)
    if approver.role not in details.approver_roles:
        allowed = ", ".join(r.value for r in details.approver_roles)
        raise PermissionDenied(f"this change waits for a {allowed}")
    requester = actor_for(session.get_one(User, approval.created_by))
    if details.change == "feature_update":
        spec = get_layer(details.layer or "")
        geometry = details.payload.get("geometry")
        update_feature(
            session=session, spec=spec, feature_id=details.target_id,
            expected_version=details.expected_version, actor=requester,
            properties=details.payload.get("properties"),
            geometry=shape(geometry) if geometry else None,
            max_vertices=details.payload["max_vertices"],
        )  # fmt: skip
    else:
        transition_record(
            session=session, kind=kind_of(details.payload["kind"]), record_id=details.target_id,
            action=details.payload["action"], expected_version=details.expected_version,
            actor=requester, note=details.payload.get("note"),
            details=details.payload.get("details"), approved=True,
        )  # fmt: skip


_DECIDERS = (Role.OFFICER, Role.COMMANDER)

APPROVAL = RecordKind(
    id="approval",
    title="审批",
    workflow=Workflow(
        states=("pending", "approved", "rejected", "withdrawn"),
        steps=(
            step(
                "approve",
                "pending",
                "approved",
                roles=_DECIDERS,
                title="同意",
                notify=[Party.CREATOR],
            ),
            step(
                "reject",
                "pending",
                "rejected",
                roles=_DECIDERS,
                title="驳回",
                notify=[Party.CREATOR],
            ),
            step("withdraw", "pending", "withdrawn", parties=[Party.CREATOR], title="撤回"),
        ),
        titles={
            "pending": "待审批",
            "approved": "已同意",
            "rejected": "已驳回",
            "withdrawn": "已撤回",
        },
        closed=frozenset({"approved", "rejected", "withdrawn"}),
    ),
    details=ApprovalDetails,
    creators=frozenset(Role),
    # a unit's proposed contact is personal information from the moment it is proposed
    personal={
        f"payload.properties.{a.name}": a.personal
        for spec in all_layers()
        for a in spec.attributes
        if a.personal is not None
    },
)


def _deciders(session: Session, approval: Record, roles: Collection[Role]) -> list[Recipient]:
    """Return the users who may decide ``approval``: active, of one of ``roles``, and with a
    jurisdiction (precinct, district or the city; never a unit's) holding its place."""
    over_its_place = or_(
        User.precinct_id == approval.precinct_id,
        and_(User.precinct_id.is_(None), User.district_id == approval.district_id),
        and_(User.precinct_id.is_(None), User.district_id.is_(None)),
    )
    found = session.scalars(
        select(User.id)
        .where(User.is_active, User.role.in_([r.value for r in roles]), User.unit_id.is_(None),
               over_its_place)
        .order_by(User.id)
    )  # fmt: skip
    return [("user", user_id) for user_id in found]


def _request(
    session: Session, actor: Actor, title: str, target: FeatureRef, details: ApprovalDetails
) -> Record:
    """Create the approval and put it in the inbox of everyone who may decide it."""
    new = NewRecord(title=title, topic="internal_security", features=[target],
                    details=details.model_dump(mode="json"))  # fmt: skip
    approval = create_record(session=session, kind=APPROVAL, new=new, actor=actor)
    send_messages(
        session, approval, _deciders(session, approval, details.approver_roles), "approval.pending"
    )
    return approval


def request_feature_update(
    *,
    session: Session,
    layer: str,
    feature_id: int,
    expected_version: int | None,
    actor: Actor,
    properties: dict[str, Any] | None,
    geometry: dict[str, Any] | None,
    max_vertices: int,
) -> Record:
    """Keep a unit user's edit of a feature as an approval for its precinct's officers."""
    spec = get_layer(layer)
    feature = get_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    if expected_version is not None and expected_version != feature.version:
        raise Conflict(f"feature {feature_id} is at version {feature.version}, not "
                       f"{expected_version}; reload it and edit again")  # fmt: skip
    details = ApprovalDetails(
        change="feature_update", layer=layer, target_id=feature_id,
        expected_version=feature.version, approver_roles=list(_DECIDERS),
        payload={"properties": properties, "geometry": geometry, "max_vertices": max_vertices},
    )  # fmt: skip
    return _request(session, actor, f"修改{spec.title}信息: {feature.name}"[:200],
                    FeatureRef(layer, feature_id), details)  # fmt: skip


def take_step(
    *,
    session: Session,
    kind: RecordKind,
    record_id: int,
    action: str,
    expected_version: int | None,
    actor: Actor,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> Record:
    """Take a workflow step, or keep it as an approval when the kind says it needs one.

    Returns the moved record, or the new approval record (its ``kind`` says which).
    """
    record = read_record(session=session, record_id=record_id, actor=actor, kind=kind)
    chosen = check_step(record, kind, action, actor)
    approvers = kind.approval(record, chosen, actor) if kind.approval else frozenset()
    if not approvers:
        return transition_record(
            session=session, kind=kind, record_id=record_id, action=action,
            expected_version=expected_version, actor=actor, note=note, details=details,
        )  # fmt: skip
    filled_details(record, kind, chosen, details)  # refused now, not when approved
    change = ApprovalDetails(
        change="record_transition", target_id=record_id,
        expected_version=expected_version if expected_version is not None else record.version,
        approver_roles=sorted(approvers),
        payload={"kind": kind.id, "action": action, "note": note, "details": details},
    )  # fmt: skip
    links = links_of(session, record.id)
    return _request(session, actor, f"{chosen.title or action}: {record.title}"[:200],
                    links[0], change)  # fmt: skip

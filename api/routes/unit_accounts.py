"""Unit accounts (单位账号) for the police who supervise units: invite, list, disable, enable.

Served by the main app only: the portal (``warroom_ui.portal``) does not mount them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from api.access import Rule
from api.deps import CurrentActor, SessionDep
from api.schemas.portal import (
    AccountState,
    InvitationCreate,
    InvitationPublic,
    UnitAccountPublic,
    UnitAccountsPublic,
)
from layers.accounts.invitations import (
    SUPERVISORS,
    UnitInvitation,
    create_invitation,
    revoke_invitation,
    set_unit_account_active,
    unit_accounts,
)
from layers.accounts.models import User

UNIT_SUPERVISORS = Rule("manage unit accounts", SUPERVISORS)
router = APIRouter(
    prefix="/api/unit-accounts", tags=["unit accounts"], dependencies=[Depends(UNIT_SUPERVISORS)]
)
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _invitation(invitation: UnitInvitation, code: str | None = None) -> InvitationPublic:
    return InvitationPublic(
        id=invitation.id, unit_id=invitation.unit_id, created_at=invitation.created_at,
        expires_at=invitation.expires_at, used_at=invitation.used_at,
        revoked_at=invitation.revoked_at, code=code,
        join_path=f"/portal#join={code}" if code else None,
    )  # fmt: skip


def _account(user: User) -> UnitAccountPublic:
    return UnitAccountPublic(id=user.id, username=user.username, unit_id=user.unit_id or 0,
                             is_active=user.is_active, created_at=user.created_at)  # fmt: skip


@router.post("/invitations", status_code=201)
def create_unit_invitation(
    body: InvitationCreate, session: SessionDep, actor: CurrentActor, response: Response
) -> InvitationPublic:
    """Invite a unit of your jurisdiction to the portal: a one-time code, shown this once."""
    made = create_invitation(session=session, actor=actor, unit_id=body.unit_id,
                             valid_hours=body.valid_hours)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return _invitation(made.invitation, made.code)


@router.delete("/invitations/{invitation_id}", status_code=204)
def revoke_unit_invitation(invitation_id: Id, session: SessionDep, actor: CurrentActor) -> None:
    """Revoke an unused invitation."""
    revoke_invitation(session=session, actor=actor, invitation_id=invitation_id)


@router.get("")
def list_unit_accounts(
    session: SessionDep, actor: CurrentActor, unit_id: Annotated[int, Query(ge=1, le=2**63 - 1)]
) -> UnitAccountsPublic:
    """Return a unit's portal accounts and its latest invitations."""
    users, invitations = unit_accounts(session=session, actor=actor, unit_id=unit_id)
    return UnitAccountsPublic(accounts=[_account(u) for u in users],
                              invitations=[_invitation(i) for i in invitations])  # fmt: skip


@router.patch("/{user_id}")
def update_unit_account(
    user_id: Id, body: AccountState, session: SessionDep, actor: CurrentActor
) -> UnitAccountPublic:
    """Disable (its sessions end at once) or enable a unit account of your jurisdiction."""
    user = set_unit_account_active(session=session, actor=actor, user_id=user_id,
                                   active=body.active)  # fmt: skip
    return _account(user)

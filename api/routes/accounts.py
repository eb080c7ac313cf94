"""Accounts split between two people (三权分立): the admin creates, the security admin authorises.

``POST /api/admin/users`` (``users:manage``, the administrator) creates a disabled
account with a one-time password; ``PATCH /api/admin/users/{id}/authority``
(``roles:manage``, the security administrator) enables or disables it and sets its
role and jurisdiction. Nobody changes their own account; every change is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from api.access import requires
from api.deps import CurrentActor, SessionDep, SettingsDep
from api.schemas.accounts import AccountCreate, AccountCreated, AuthorityPublic, AuthorityUpdate
from layers.accounts.authority import create_account, set_authority
from layers.accounts.roles import Permission

router = APIRouter(prefix="/api/admin/users", tags=["operations"])
UserId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id of the user")]


@router.post("", status_code=201, dependencies=[Depends(requires(Permission.USERS_MANAGE))])
def create_account_route(
    body: AccountCreate, response: Response, session: SessionDep, settings: SettingsDep,
    actor: CurrentActor,
) -> AccountCreated:  # fmt: skip
    """Create a disabled account with a one-time password, shown this once; audited."""
    made = create_account(session=session, actor=actor, username=body.username, role=body.role,
                          where=body.to_domain(), policy=settings.security)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"  # a secret shown once is kept by no cache
    user, password = made.user, made.one_time_password
    return AccountCreated(id=user.id, username=user.username, role=user.role,
                          is_active=user.is_active, one_time_password=password)  # fmt: skip


@router.patch("/{user_id}/authority", dependencies=[Depends(requires(Permission.ROLES_MANAGE))])
def update_authority(
    user_id: UserId, body: AuthorityUpdate, request: Request, session: SessionDep,
    actor: CurrentActor,
) -> AuthorityPublic:  # fmt: skip
    """Enable or disable an account, set its role and jurisdiction; audited before and after."""
    user = set_authority(
        session=session, actor=actor, user_id=user_id, role=body.role, active=body.is_active,
        where=body.jurisdiction.to_domain() if body.jurisdiction else None,
    )  # fmt: skip
    request.app.state.session_cache.drop_user(user.id)  # other workers hear it at commit
    return AuthorityPublic(id=user.id, username=user.username, role=user.role,
                           district_id=user.district_id, precinct_id=user.precinct_id,
                           unit_id=user.unit_id, is_active=user.is_active)  # fmt: skip

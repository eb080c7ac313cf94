"""Check-ins on site (移动警务 签到): an officer at a feature, refused from too far away."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.access import RECORD_READERS, requires
from api.deps import CurrentActor, LayerDep, LimitDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyKeyDep, remember, replayed
from api.schemas.checkins import CheckInCreate, CheckInPublic, CheckInsPublic
from layers.accounts.roles import Permission, Role
from layers.errors import NotFound
from layers.fieldwork.checkins import ACTION, check_in, check_ins_at, read_check_in

router = APIRouter(tags=["check-ins"])

# Police check in where they work: officers and commanders.
CHECK_IN_WRITERS = requires(
    Permission.RECORDS_WRITE, roles=(Role.OFFICER, Role.COMMANDER), name="check in on site"
)


@router.post(
    "/api/check-ins",
    dependencies=[Depends(CHECK_IN_WRITERS)],
    status_code=201,
    responses={200: {"description": "sent before under the same Idempotency-Key: its answer"}},
)
def create_check_in(
    body: CheckInCreate, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    response: Response, idempotency_key: IdempotencyKeyDep = None,
) -> CheckInPublic:  # fmt: skip
    """Check in at a feature from the phone's position; 403 ``TooFarAway`` beyond the radius.

    The radius is ``WARROOM_FIELDWORK_CHECK_IN_RADIUS_M`` (geodesic; 0 inside an area).
    """
    new = body.to_domain()
    earlier = replayed(session, response, actor=actor, key=idempotency_key, action=ACTION,
                       content=body.model_dump(mode="json"))  # fmt: skip
    if earlier is not None:
        found = read_check_in(session=session, check_in_id=earlier, actor=actor)
        if found is None:
            raise NotFound(f"there is no check-in {earlier}")
        return CheckInPublic.of(found)
    check = check_in(session=session, new=new, actor=actor,
                     radius_m=settings.fieldwork.check_in_radius_m)  # fmt: skip
    if idempotency_key is not None:
        remember(session, actor=actor, key=idempotency_key, target_id=check.id)
    return CheckInPublic.of(check)


@router.get(
    "/api/layers/{layer}/features/{feature_id}/check-ins", dependencies=[Depends(RECORD_READERS)]
)
def list_check_ins(
    spec: LayerDep, feature_id: int, session: SessionDep, actor: CurrentActor, limit: LimitDep
) -> CheckInsPublic:
    """Return the newest check-ins at a feature the caller may see."""
    found = check_ins_at(session=session, spec=spec, feature_id=feature_id, actor=actor,
                         limit=limit)  # fmt: skip
    return CheckInsPublic(data=[CheckInPublic.of(c) for c in found], count=len(found))

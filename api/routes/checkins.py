"""Field work: check-ins on site (移动警务 签到), refused from too far away; features with
overdue tasks (the officer's filter)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.access import RECORD_READERS, requires
from api.deps import CurrentActor, LayerDep, LimitDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyKeyDep, remember, replayed
from api.schemas.checkins import CheckInCreate, CheckInPublic, CheckInsPublic, FeatureIdsPublic
from layers.accounts.roles import Permission, Role
from layers.errors import NotFound
from layers.fieldwork.checkins import ACTION, check_in, check_ins_at, read_check_in
from layers.fieldwork.overdue import with_overdue_tasks

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


@router.get("/api/layers/{layer}/overdue", dependencies=[Depends(RECORD_READERS)])
def list_overdue_features(
    spec: LayerDep, session: SessionDep, actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 5_000,
) -> FeatureIdsPublic:  # fmt: skip
    """Return the ids of features you may see with an open task past its due time."""
    ids = with_overdue_tasks(session=session, spec=spec, actor=actor, at=datetime.now(UTC),
                             limit=limit)  # fmt: skip
    return FeatureIdsPublic(ids=ids, count=len(ids))

"""Training plans, completion statistics, industries, organisations and training notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.orm import Session

from api.access import TRAINING_READERS, TRAINING_STAFF
from api.deps import CurrentActor, SessionDep, SettingsDep, if_match_version
from api.schemas.training import (
    CompletionPublic,
    CompletionsPublic,
    CompliancePublic,
    IndustriesPublic,
    IndustryPublic,
    NoticeCreate,
    NoticePublic,
    NoticesPublic,
    OrganisationPublic,
    OrganisationsPublic,
    PlanCreate,
    PlanPublic,
    PlansPublic,
    PlanUpdate,
)
from layers.training.directory import industries, list_notices, organisations, post_notice
from layers.training.models import TrainingPlan
from layers.training.plans import (
    create_plan,
    list_plans,
    plan_courses,
    read_plan,
    units_reached,
    update_plan,
)
from layers.training.stats import completion

router = APIRouter(prefix="/api/training", tags=["training"])


def _public(session: Session, plan: TrainingPlan, response: Response | None = None) -> PlanPublic:
    if response is not None:
        response.headers["ETag"] = f'"{plan.version}"'
    return PlanPublic.of(plan, plan_courses(session, plan.id), units_reached(session, plan.id))


@router.post("/plans", dependencies=[Depends(TRAINING_STAFF)], status_code=201)
def create_training_plan(
    body: PlanCreate, session: SessionDep, actor: CurrentActor, response: Response
) -> PlanPublic:
    """Assign published courses to industries and/or units of your jurisdiction by a deadline."""
    plan = create_plan(session=session, plan=body.to_domain(), actor=actor)
    response.headers["Location"] = f"{router.prefix}/plans/{plan.id}"
    return _public(session, plan, response)


@router.get("/plans", dependencies=[Depends(TRAINING_STAFF)])
def list_training_plans(session: SessionDep, actor: CurrentActor) -> PlansPublic:
    """Return the plans of your jurisdiction, your district and the city, newest first."""
    found = list_plans(session=session, actor=actor)
    return PlansPublic(data=[_public(session, p) for p in found], count=len(found))


@router.get("/plans/{plan_id}", dependencies=[Depends(TRAINING_STAFF)])
def read_training_plan(
    plan_id: int, session: SessionDep, actor: CurrentActor, response: Response
) -> PlanPublic:
    """Return a plan and how many units it reaches."""
    return _public(session, read_plan(session=session, plan_id=plan_id, actor=actor), response)


@router.patch("/plans/{plan_id}", dependencies=[Depends(TRAINING_STAFF)])
def update_training_plan(
    plan_id: int,
    body: PlanUpdate,
    session: SessionDep,
    actor: CurrentActor,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> PlanPublic:
    """Edit or withdraw a plan of your jurisdiction at its version (If-Match)."""
    plan = update_plan(session=session, plan_id=plan_id, actor=actor,
                       fields=body.fields(),
                       expected_version=if_match_version(if_match))  # fmt: skip
    return _public(session, plan, response)


@router.get("/stats/completion", dependencies=[Depends(TRAINING_STAFF)])
def read_training_completion(
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    group_by: Annotated[str, Query(pattern="^(unit|precinct|industry)$")] = "precinct",
    plan_id: int | None = None,
) -> CompletionsPublic:
    """Return completion per unit, precinct or industry over the units you see (of one plan)."""
    today = datetime.now(settings.zone).date()
    rows = completion(session=session, actor=actor, group_by=group_by, today=today,
                      plan_id=plan_id)  # fmt: skip
    return CompletionsPublic(group_by=group_by, today=today,
                             data=[CompletionPublic(**vars(r)) for r in rows])  # fmt: skip


@router.get("/industries", dependencies=[Depends(TRAINING_READERS)])
def list_training_industries(session: SessionDep, actor: CurrentActor) -> IndustriesPublic:
    """Return every industry with how many of its units you see."""
    found = industries(session=session, actor=actor)
    return IndustriesPublic(data=[IndustryPublic(code=i.code, name=i.name, units=n)
                                  for i, n in found])  # fmt: skip


@router.get("/organisations", dependencies=[Depends(TRAINING_STAFF)])
def list_training_organisations(
    session: SessionDep,
    actor: CurrentActor,
    industry: Annotated[str | None, Query(max_length=32)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OrganisationsPublic:
    """Return a page of the units you see with their training compliance, by id."""
    found = organisations(session=session, actor=actor, industry=industry, after=after,
                          limit=limit)  # fmt: skip
    data = [
        OrganisationPublic(id=o.unit.id, name=o.unit.name, industry=o.unit.category,
                           precinct_id=o.unit.precinct_id, training=CompliancePublic.of(o.training))
        for o in found
    ]  # fmt: skip
    return OrganisationsPublic(data=data, next=data[-1].id if len(data) == limit else None)


@router.post("/notices", dependencies=[Depends(TRAINING_STAFF)], status_code=201)
def create_training_notice(
    body: NoticeCreate, session: SessionDep, actor: CurrentActor, response: Response
) -> NoticePublic:
    """Post a training notice to the units of your jurisdiction (of some industries)."""
    notice = post_notice(session=session, title=body.title, body=body.body,
                         industries=body.industries, actor=actor)  # fmt: skip
    response.headers["Location"] = f"{router.prefix}/notices"
    return NoticePublic.of(notice)


@router.get("/notices", dependencies=[Depends(TRAINING_READERS)])
def list_training_notices(
    session: SessionDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NoticesPublic:
    """Return the newest training notices: staff those they see, a learner their unit's."""
    found = list_notices(session=session, actor=actor, limit=limit)
    return NoticesPublic(data=[NoticePublic.of(n) for n in found])

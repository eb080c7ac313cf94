"""Form templates (表单服务) and the routes that submit filled-in forms about features."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.access import RECORD_READERS, Rule, creators_of
from api.deps import CurrentActor, SessionDep
from api.idempotency import IdempotencyKeyDep, remember, replayed
from api.routes.records import FORM_PATHS, created, to_public
from api.schemas.forms import (
    SubmissionCreate,
    SubmissionPublic,
    TemplateCreate,
    TemplatePublic,
    TemplatesPublic,
)
from layers.records.catalog import KINDS
from layers.records.forms import (
    TEMPLATE_AUTHORS,
    FormTemplate,
    create_template,
    get_template,
    list_templates,
)
from layers.records.service import read_record
from layers.records.submissions import submit_form

TEMPLATE_WRITERS = Rule("write form templates", TEMPLATE_AUTHORS)
router = APIRouter(tags=["forms"])


def template_public(template: FormTemplate) -> TemplatePublic:
    """Return a template version as clients read it."""
    return TemplatePublic.model_validate(template, from_attributes=True)


@router.post("/api/forms", dependencies=[Depends(TEMPLATE_WRITERS)], status_code=201)
def create_form_template(
    body: TemplateCreate, session: SessionDep, actor: CurrentActor, response: Response
) -> TemplatePublic:
    """Add a form, or the next version of it (earlier versions stay as they were)."""
    template = create_template(session=session, new=body.to_domain(), actor=actor)
    response.headers["Location"] = f"/api/forms/{template.code}?version={template.version}"
    return template_public(template)


@router.get("/api/forms", dependencies=[Depends(RECORD_READERS)])
def list_form_templates(session: SessionDep, actor: CurrentActor) -> TemplatesPublic:
    """Return the latest version of every form."""
    data = [template_public(t) for t in list_templates(session=session, actor=actor)]
    return TemplatesPublic(data=data, count=len(data))


@router.get("/api/forms/{code}", dependencies=[Depends(RECORD_READERS)])
def read_form_template(
    code: str, session: SessionDep, actor: CurrentActor,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> TemplatePublic:  # fmt: skip
    """Return a form's latest version, or ``?version=N``."""
    return template_public(get_template(session=session, code=code, actor=actor, version=version))


def _submit_route(kind_id: str, prefix: str) -> None:
    kind = KINDS[kind_id]

    @router.post(
        prefix, dependencies=[Depends(creators_of(kind))], status_code=201, tags=[kind_id],
        responses={200: {"description": "sent before under the same Idempotency-Key: its answer"}},
    )  # fmt: skip
    def submit(
        body: SubmissionCreate, session: SessionDep, actor: CurrentActor, response: Response,
        idempotency_key: IdempotencyKeyDep = None,
    ) -> SubmissionPublic:  # fmt: skip
        content = body.model_dump(mode="json")
        earlier = replayed(session, response, actor=actor, key=idempotency_key,
                           action=f"{kind.id}.create", content=content)  # fmt: skip
        if earlier is not None:
            record = read_record(session=session, record_id=earlier, actor=actor, kind=kind)
            hazards = [read_record(session=session, record_id=h, actor=actor)
                       for h in record.details.get("hazards", ())]  # fmt: skip
        else:
            record, hazards = submit_form(
                session=session, kind=kind, submission=body.to_domain(), actor=actor
            )
            if idempotency_key is not None:
                remember(session, actor=actor, key=idempotency_key, target_id=record.id)
        public = created(session, record, actor, response, prefix)
        opened = [to_public(h, KINDS["hazard"]) for h in hazards]
        return SubmissionPublic(**public.model_dump(), opened_hazards=opened)

    submit.__doc__ = (
        f"Submit a filled-in {kind.title}表 about features: checked, scored, kept; "
        "once per Idempotency-Key."
    )


for _kind_id, _prefix in FORM_PATHS.items():
    _submit_route(_kind_id, _prefix)

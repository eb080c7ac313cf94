"""Lists of one kind of record, each with the steps its reader may take (the phone's views)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.access import RECORD_READERS
from api.deps import CurrentActor, LimitDep, SessionDep
from api.routes.records import to_public
from api.schemas.records import ActionPublic, FeatureRefIn, RecordsPublic
from layers.errors import InvalidInput
from layers.records.catalog import get_kind
from layers.records.listing import RecordFilter, links_of_records, list_records
from layers.records.service import allowed_steps

router = APIRouter(tags=["records"])
Details = Annotated[
    list[str] | None,
    Query(max_length=20, description="field:value of the details, e.g. task_kind:security"),
]


def _details(given: list[str] | None) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for pair in given or ():
        name, colon, value = pair.partition(":")
        if not colon or not name or not value or len(value) > 64:
            raise InvalidInput(f"detail {pair[:80]!r}: give field:value")
        details.setdefault(name, []).append(value)
    return details


@router.get("/api/records", dependencies=[Depends(RECORD_READERS)])
def list_records_of_kind(
    session: SessionDep, actor: CurrentActor, limit: LimitDep,
    kind: Annotated[str, Query(max_length=32)], detail: Details = None,
    open_only: Annotated[bool, Query(alias="open", description="open ones only")] = True,
) -> RecordsPublic:  # fmt: skip
    """Return the records of ``kind`` you may list, soonest due first, with their features and
    the steps you may take on each (``detail=task_kind:security`` narrows by a detail)."""
    record_kind = get_kind(kind)
    which = RecordFilter(record_kind, open_only=open_only, details=_details(detail))
    records = list_records(session=session, actor=actor, which=which, limit=limit)
    links = links_of_records(session, [r.id for r in records])
    data = []
    for record in records:
        public = to_public(record, record_kind)
        public.features = [FeatureRefIn(layer=f.layer, id=f.id) for f in links[record.id]]
        public.actions = [ActionPublic(action=s.action, title=s.title, to_state=s.target)
                          for s in allowed_steps(record, record_kind, actor)]  # fmt: skip
        data.append(public)
    return RecordsPublic(data=data, count=len(data), next=None)

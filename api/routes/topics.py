"""The topic modules: their sections, record kinds with workflow stages, and forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.access import RECORD_READERS
from api.deps import CurrentActor, SessionDep
from layers.records.catalog import KINDS
from layers.records.forms import list_templates
from layers.records.kinds import RecordKind
from layers.records.topics import TOPIC_LIST

router = APIRouter(tags=["topics"], dependencies=[Depends(RECORD_READERS)])


def kind_description(kind: RecordKind) -> dict[str, Any]:
    """Return a kind as the topics list shows it: its stages and the actions between them."""
    flow = kind.workflow
    return {
        "id": kind.id, "title": kind.title,
        "stages": [{"state": s, "title": flow.titles.get(s, s), "closed": s in flow.closed}
                   for s in flow.states],
        "actions": [{"action": s.action, "title": s.title, "from": sorted(s.sources),
                     "to": s.target, "roles": sorted(s.roles), "parties": sorted(s.parties)}
                    for s in flow.steps],
    }  # fmt: skip


@router.get("/api/topics")
def list_topics(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Return every topic module with its sections, record kinds (stages) and forms."""
    templates = list_templates(session=session, actor=actor)
    data = [
        {
            "id": topic.id, "title": topic.title,
            "kinds": [kind_description(KINDS[k]) for k in topic.kinds],
            "forms": [{"code": t.code, "version": t.version, "title": t.title,
                       "form_kind": t.form_kind}
                      for t in templates if t.form_kind in topic.form_kinds],
            "sections": [{"id": s.id, "title": s.title, "layers": list(s.layers),
                          "kinds": list(s.kinds)} for s in topic.sections],
        }
        for topic in TOPIC_LIST
    ]  # fmt: skip
    return {"data": data, "count": len(data)}

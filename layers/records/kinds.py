"""What a record kind is: its workflow, its details' schema, who creates it, its topics.

A kind module (``layers.records.tasks``...) builds one ``RecordKind``;
``layers.records.catalog`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from layers.accounts.roles import Role
from layers.crypto.personal import PersonalKind
from layers.errors import InvalidInput
from layers.records.workflow import Party, Step, Workflow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from layers.accounts.scope import Actor
    from layers.records.models import Record
    from layers.records.refs import FeatureRef

# Called in the writing transaction after a record of the kind is created or moved,
# with the features it concerns: how a kind keeps what it derives on them right.
AfterWrite = Callable[["Session", "Record", "Sequence[FeatureRef]"], None]
# The roles that must approve ``actor`` taking a step on a record (none: no approval).
ApprovalRule = Callable[["Record", "Step", "Actor"], frozenset[Role]]
# Called in the transaction that moves a record into a state, with who moved it.
OnEnter = Callable[["Session", "Record", "Actor"], None]

TOPICS: dict[str, str] = {
    "internal_security": "内保综合管理",
    "environment": "环境",
    "food_drug": "食品药品",
    "tobacco": "烟草",
    "intellectual_property": "知识产权",
    "public_transport": "公交行业",
    "tourism": "旅游监测",
}


@dataclass(frozen=True)
class RecordKind:
    """One kind of record: id, Chinese title, topics, workflow, details and creators."""

    id: str
    title: str
    workflow: Workflow
    details: type[BaseModel]
    creators: frozenset[Role]
    topics: tuple[str, ...] = tuple(TOPICS)
    after_write: AfterWrite | None = None
    # details fields holding personal information, and the kind of each: sealed at rest,
    # masked in responses and the audit log, found by blind index (layers.records.personal)
    personal: Mapping[str, PersonalKind] = field(default_factory=dict)
    notify_on_create: frozenset[Party] = frozenset()
    needs_features: bool = True
    approval: ApprovalRule | None = None
    on_enter: Mapping[str, OnEnter] = field(default_factory=dict)

    def check_details(self, values: dict[str, Any]) -> dict[str, Any]:
        """Return ``values`` validated by this kind's schema, JSON-ready, or raise 422."""
        try:
            model = self.details.model_validate(values)
        except ValidationError as exc:
            raise self._invalid(exc, ()) from None
        return model.model_dump(mode="json", exclude_none=True)

    def check_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return some fields of this kind's details validated, JSON-ready, or raise 422."""
        checked: dict[str, Any] = {}
        for name, value in values.items():
            field_info = self.details.model_fields[name]
            shape: Any = field_info.annotation
            if field_info.metadata:  # its constraints (max_length, ge...)
                shape = Annotated[(shape, *field_info.metadata)]
            adapter: TypeAdapter[Any] = TypeAdapter(shape)
            try:
                checked[name] = adapter.dump_python(
                    adapter.validate_python(value), mode="json", exclude_none=True
                )
            except ValidationError as exc:
                raise self._invalid(exc, (name,)) from None
        return checked

    def _invalid(self, exc: ValidationError, path: tuple[str, ...]) -> InvalidInput:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in (*path, *e['loc'])) or 'details'}: {e['msg']}"
            for e in exc.errors()
        )
        return InvalidInput(f"invalid {self.id} details: {problems}")

    def check_topic(self, topic: str) -> str:
        """Return ``topic`` if records of this kind may belong to it, or raise 422."""
        if topic not in self.topics:
            raise InvalidInput(
                f"topic {topic!r} has no {self.id} records; use one of {', '.join(self.topics)}"
            )
        return topic

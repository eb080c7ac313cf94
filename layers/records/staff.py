"""Staff registrations (人员报备): a unit's security staff, filed by the unit, checked by police."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.workflow import Party, Workflow, step


class StaffRole(StrEnum):
    """What a registered person does for the unit's security."""

    SECURITY_MANAGER = "security_manager"
    GUARD = "guard"
    MONITOR = "monitor"
    FIRE_OFFICER = "fire_officer"
    OTHER = "other"


class StaffDetails(BaseModel):
    """One person on a unit's security staff; name, id number and phone are personal."""

    model_config = ConfigDict(extra="forbid")

    person_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9Xx]$")
    phone: str = Field(pattern=r"^\+?[0-9][0-9-]{5,19}$")
    staff_role: StaffRole
    certificate: str | None = Field(default=None, max_length=64)


STAFF_REGISTRATION = RecordKind(
    id="staff_registration",
    title="人员报备",
    workflow=Workflow(
        states=("submitted", "accepted", "returned", "withdrawn"),
        steps=(
            step(
                "accept",
                "submitted",
                "accepted",
                roles=[Role.OFFICER, Role.COMMANDER],
                title="审核通过",
            ),
            step(
                "return",
                "submitted",
                "returned",
                roles=[Role.OFFICER, Role.COMMANDER],
                title="退回",
            ),
            step(
                "withdraw",
                ("submitted", "accepted"),
                "withdrawn",
                parties=[Party.CREATOR],
                roles=[Role.OFFICER],
                title="撤回",
            ),
        ),
        titles={
            "submitted": "已报备",
            "accepted": "已通过",
            "returned": "已退回",
            "withdrawn": "已撤回",
        },
        closed=frozenset({"accepted", "returned", "withdrawn"}),
    ),
    details=StaffDetails,
    creators=frozenset({Role.UNIT, Role.OFFICER}),
    topics=("internal_security", "public_transport", "tourism"),
    personal={"person_name": "name", "id_number": "id_number", "phone": "phone"},
)

"""Who is acting and which part of the city they may see: one mechanism for every read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, true

from layers.accounts.roles import ROLE_PERMISSIONS, ROLE_WRITABLE_LAYERS, Permission, Role
from layers.base import Feature
from layers.errors import PermissionDenied


class ScopeKind(StrEnum):
    """How far an actor's view reaches."""

    CITY = "city"
    DISTRICT = "district"
    PRECINCT = "precinct"
    UNIT = "unit"


@dataclass(frozen=True)
class Scope:
    """The jurisdiction an actor is limited to."""

    kind: ScopeKind
    id: int | None = None

    def clause(self, model: type[Feature]) -> ColumnElement[bool]:
        """Return the SQL condition that keeps rows of ``model`` inside this scope."""
        if self.kind is ScopeKind.CITY:
            return true()
        if self.kind is ScopeKind.DISTRICT:
            return model.district_id == self.id
        if self.kind is ScopeKind.PRECINCT:
            return model.precinct_id == self.id
        if model.__tablename__ == "units":  # type: ignore[attr-defined]
            return model.id == self.id
        return false()

    def contains(self, feature: Any) -> bool:
        """Return whether a loaded feature lies inside this scope."""
        if self.kind is ScopeKind.CITY:
            return True
        if self.kind is ScopeKind.DISTRICT:
            return bool(feature.district_id == self.id)
        if self.kind is ScopeKind.PRECINCT:
            return bool(feature.precinct_id == self.id)
        return feature.__tablename__ == "units" and feature.id == self.id


CITY = Scope(ScopeKind.CITY)


@dataclass(frozen=True)
class Actor:
    """An authenticated user as the domain sees them."""

    user_id: int | None
    username: str
    role: Role
    scope: Scope = CITY
    client: str | None = None

    def can(self, permission: Permission) -> bool:
        """Return whether the actor's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise ``PermissionDenied`` unless the actor's role grants ``permission``."""
        if not self.can(permission):
            raise PermissionDenied(f"role {self.role.value!r} may not {permission.value}")

    def require_any(self, *permissions: Permission) -> None:
        """Raise ``PermissionDenied`` unless the actor's role grants one of ``permissions``."""
        if not any(self.can(permission) for permission in permissions):
            wanted = " or ".join(permission.value for permission in permissions)
            raise PermissionDenied(f"role {self.role.value!r} may not {wanted}")

    def require_layer_write(self, layer_id: str) -> None:
        """Raise ``PermissionDenied`` unless the actor may write features of ``layer_id``."""
        self.require(Permission.FEATURES_WRITE)
        writable = ROLE_WRITABLE_LAYERS.get(self.role)
        if writable is not None and layer_id not in writable:
            raise PermissionDenied(f"role {self.role.value!r} may not edit layer {layer_id!r}")


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)

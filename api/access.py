"""Who may call each route: one rule per route, declared on it, checked before anything else.

Every route names its rule among its ``dependencies`` (on the route, or on its router):
``dependencies=[Depends(FEATURE_READERS)]``. FastAPI resolves those before the route's
own parameters, body and dependencies, so a caller the rule refuses gets 401 (no live
session) or 403 (a role the rule does not name) before a byte of the body is read or
validated, and the refusal is audited (``access.denied``). Scope, layer and workflow
checks stay in the domain functions, which also refuse (and audit) on their own.

``rule_of(route)`` reads a route's rule back from the route table:
tests/api/test_route_matrix.py checks every route against every role with it, and
fails on a route that has none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.deps import CurrentActor, LiveSessionDep, SessionDep
from layers.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from layers.accounts.scope import Actor
from layers.audit.service import record_audit
from layers.errors import PermissionDenied
from layers.records.kinds import RecordKind

__all__ = [
    "AnyState",
    "AsyncRule",
    "Public",
    "Rule",
    "SignedIn",
    "requires",
    "requires_any",
    "rule_of",
]


@dataclass(frozen=True)
class Rule:
    """Dependency: a live session of one of ``roles`` may call the route, nobody else."""

    name: str  # what the roles may do, for messages: "features:read"
    roles: frozenset[Role]

    def allows(self, role: Role | None) -> bool:
        """Return whether a caller of ``role`` (None: without a session) passes the rule."""
        return role is not None and role in self.roles

    def refuse(self, request: Request, session: Session, actor: Actor) -> PermissionDenied:
        """Audit the refused request (committed at once) and return the error to raise."""
        route = request.scope.get("route")
        template = getattr(route, "path", request.url.path)
        said = f"role {actor.role.value!r} may not {self.name}"
        where = f"{request.method} {request.url.path} ({template})"
        record_audit(session, actor=actor, action="access.denied", target_type="route",
                     result="denied", detail=f"{where}: {said}"[:500])  # fmt: skip
        session.commit()  # the request fails, its refusal stays
        return PermissionDenied(said)

    def __call__(self, request: Request, session: SessionDep, actor: CurrentActor) -> None:
        """Pass a caller of the rule's roles; refuse (403, audited) any other."""
        if actor.role not in self.roles:
            raise self.refuse(request, session, actor)


@dataclass(frozen=True)
class SignedIn(Rule):
    """Dependency: any live session may call the route (its own data: logout, me, inbox)."""

    name: str = "be signed in"
    roles: frozenset[Role] = frozenset(Role)


@dataclass(frozen=True)
class AnyState(Rule):
    """Dependency: any live session, even one that must change its password or enrol a
    second factor first (those routes are how it does so: password, TOTP, me, logout)."""

    name: str = "be signed in"
    roles: frozenset[Role] = frozenset(Role)

    def __call__(self, live: LiveSessionDep) -> None:  # type: ignore[override]
        """Pass every live session."""


@dataclass(frozen=True)
class Public(Rule):
    """Dependency: anyone may call the route, without a session (health, login, docs)."""

    name: str = "call it"
    roles: frozenset[Role] = frozenset(Role)

    def allows(self, role: Role | None) -> bool:
        """Return True: a public route passes everyone."""
        return True

    def __call__(self) -> None:  # type: ignore[override]
        """Pass everyone."""


@dataclass(frozen=True)
class AsyncRule(Rule):
    """A rule for routes that resolve their caller themselves, off FastAPI's machinery
    (the tile fast path, metrics): ``await rule.actor(request)`` returns the admitted
    actor; ``bypass`` lets a request through without a session (a scraper's token).
    """

    resolve: Callable[[Request], Awaitable[Actor]] | None = field(default=None, compare=False)
    bypass: Callable[[Request], bool] | None = field(default=None, compare=False)

    async def actor(self, request: Request) -> Actor:
        """Return the caller's actor if the rule admits it; 401 or 403 (audited) otherwise."""
        assert self.resolve is not None, "an AsyncRule needs resolve"
        actor = await self.resolve(request)
        if actor.role not in self.roles:
            raise await run_in_threadpool(self._refuse_in_a_session, request, actor)
        return actor

    def _refuse_in_a_session(self, request: Request, actor: Actor) -> PermissionDenied:
        with request.app.state.sessionmaker() as session:
            return self.refuse(request, session, actor)

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        """Pass a caller of the rule's roles, or a request ``bypass`` lets through."""
        if self.bypass is not None and self.bypass(request):
            return
        await self.actor(request)


def requires(
    *permissions: Permission, roles: Iterable[Role] | None = None, name: str | None = None
) -> Rule:
    """Return the rule of the roles holding every one of ``permissions`` (within ``roles``)."""
    held = {role for role, granted in ROLE_PERMISSIONS.items() if set(permissions) <= granted}
    if roles is not None:
        held &= set(roles)
    return Rule(name or " and ".join(p.value for p in permissions), frozenset(held))


def requires_any(*permissions: Permission) -> Rule:
    """Return the rule of the roles holding at least one of ``permissions``."""
    held = {role for role, granted in ROLE_PERMISSIONS.items() if set(permissions) & granted}
    return Rule(" or ".join(p.value for p in permissions), frozenset(held))


def creators_of(kind: RecordKind) -> Rule:
    """Return the rule of who creates records of ``kind``: its creators with records:write."""
    return requires(Permission.RECORDS_WRITE, roles=kind.creators, name=f"create {kind.id} records")


# The rules most routes share.
PUBLIC = Public()
SIGNED_IN = SignedIn()
ANY_STATE = AnyState()
FEATURE_READERS = requires(Permission.FEATURES_READ)
FEATURE_WRITERS = requires(Permission.FEATURES_WRITE)
RECORD_READERS = requires(Permission.RECORDS_READ)
RECORD_WRITERS = requires(Permission.RECORDS_WRITE)
# Security training (layers/training): staff manage it in their jurisdiction, unit users learn.
TRAINING_STAFF = Rule("manage training", frozenset({Role.COMMANDER, Role.OFFICER}))
TRAINING_LEARNERS = Rule("learn in the training centre", frozenset({Role.UNIT}))
TRAINING_READERS = Rule("read training", TRAINING_STAFF.roles | TRAINING_LEARNERS.roles)


# FastAPI's own pages documenting the API (the OpenAPI document, Swagger UI, ReDoc): public.
FRAMEWORK_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def rule_of(route: Any) -> Rule | None:
    """Return the rule a route (or its router) declares among its dependencies, if any."""
    if getattr(route, "path", None) in FRAMEWORK_PATHS:
        return PUBLIC
    dependant = getattr(route, "dependant", None)
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        dependency = pending.pop(0)
        if isinstance(dependency.call, Rule):
            return dependency.call
        pending.extend(dependency.dependencies)
    return None

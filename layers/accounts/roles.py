"""Roles and what each may do; one table, read by the write door and the API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The roles of the bureau's users (admin/security_admin/auditor are 三权分立)."""

    ADMIN = "admin"
    SECURITY_ADMIN = "security_admin"
    AUDITOR = "auditor"
    COMMANDER = "commander"
    OFFICER = "officer"
    PLANNER = "planner"
    TOURISM = "tourism"
    UNIT = "unit"


class Permission(StrEnum):
    """Actions checked by domain functions."""

    FEATURES_READ = "features:read"
    FEATURES_WRITE = "features:write"
    USERS_READ = "users:read"  # see accounts and live sessions
    USERS_MANAGE = "users:manage"  # create accounts, reset passwords, end sessions
    ROLES_MANAGE = "roles:manage"  # enable accounts, set role and jurisdiction, reset TOTP
    AUDIT_READ = "audit:read"
    RECORDS_READ = "records:read"
    RECORDS_WRITE = "records:write"
    # personal information in full (contact phones, ID numbers): every such read is audited
    PERSONAL_READ = "personal:read"
    PERIMETERS_READ = "perimeters:read"
    PERIMETERS_WRITE = "perimeters:write"
    OPERATIONS = "operations:manage"  # the operations centre: errors, imports, backups, feedback
    # GPS feeds post vehicle positions with an account holding this (README: Vehicle tracks)
    TRACKS_WRITE = "tracks:write"
    ALERTS_ACK = "alerts:ack"  # acknowledge geofence alerts (reading them is perimeters:read)
    # park counters post visitor counts; the tourism team keeps points, levels, relations,
    # activities and topic maps (README: Tourism monitoring)
    TOURISM_WRITE = "tourism:write"


_READ = {Permission.FEATURES_READ, Permission.RECORDS_READ}
_EDIT = {*_READ, Permission.FEATURES_WRITE, Permission.RECORDS_WRITE}
_PLAN = {Permission.PERIMETERS_READ, Permission.PERIMETERS_WRITE}
_ACCOUNTS = {Permission.USERS_READ}
_COMMAND = {Permission.TRACKS_WRITE, Permission.ALERTS_ACK, Permission.TOURISM_WRITE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {*_EDIT, *_PLAN, *_COMMAND, *_ACCOUNTS, Permission.USERS_MANAGE, Permission.OPERATIONS}
    ),
    # 三权分立: the administrator keeps the system and its accounts, the security
    # administrator decides what each account may do, the auditor only reads the audit log
    Role.SECURITY_ADMIN: frozenset({*_ACCOUNTS, Permission.ROLES_MANAGE}),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ}),
    Role.COMMANDER: frozenset({*_EDIT, *_PLAN, *_COMMAND, Permission.PERSONAL_READ}),
    Role.OFFICER: frozenset({*_EDIT, Permission.PERIMETERS_READ}),
    # a planner turns a perimeter's rings into tasks and notices (#15): records:write, and
    # the task and notice kinds name planners among their creators
    Role.PLANNER: frozenset({*_READ, *_PLAN, Permission.RECORDS_WRITE}),
    Role.TOURISM: frozenset({*_READ, Permission.TOURISM_WRITE}),
    Role.UNIT: frozenset(_EDIT),
}

# Layers a role may write besides reading; None means every layer its permission covers.
ROLE_WRITABLE_LAYERS: dict[Role, frozenset[str] | None] = {
    Role.ADMIN: None,
    Role.COMMANDER: None,
    Role.OFFICER: frozenset(
        {"units", "incidents", "construction_sites", "key_station_areas", "vehicles"}
    ),
    Role.UNIT: frozenset({"units"}),
}

JURISDICTION_ROLES = frozenset({Role.OFFICER})

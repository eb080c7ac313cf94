"""Domain errors: one hierarchy, mapped to HTTP statuses once in ``api.errors``."""

from __future__ import annotations

from typing import Any


class WarroomError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(WarroomError):
    """An unknown layer, feature, user or other id."""


class InvalidInput(WarroomError):
    """Input that can never be accepted as given: wrong type, bad geometry, unknown field."""


class WeakPassword(InvalidInput):
    """A new password that breaks the password policy; ``rule`` names the rule it breaks."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message, rule=rule)


class UnsupportedMediaType(InvalidInput):
    """Content of a type the product does not take, e.g. an upload that is no image or PDF."""


class PayloadTooLarge(InvalidInput):
    """Content larger than its limit, e.g. an attachment over its size cap."""


class NotAuthenticated(WarroomError):
    """No valid session: missing, expired, revoked or wrong credentials."""


class PermissionDenied(WarroomError):
    """The actor's role or jurisdiction does not allow this."""


class PasswordChangeRequired(PermissionDenied):
    """The session may only change its password: initial, reset or expired."""


class SecondFactorEnrolmentRequired(PermissionDenied):
    """The session's role needs a second factor that is not enrolled yet."""


class PreconditionRequired(WarroomError):
    """A write arrived without the version it expects to replace."""


class VersionConflict(WarroomError):
    """A write expected a version that is no longer current."""

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message, current_version=current_version)
        self.current_version = current_version


class Conflict(WarroomError):
    """A write clashes with existing data, e.g. a duplicate external id."""


class ServiceUnavailable(WarroomError):
    """A tool the server needs for the answer is missing or failed (e.g. the PDF renderer)."""


class DatabaseUnavailable(WarroomError):
    """The configured database cannot be used: unreachable, refused, or without PostGIS."""


class CryptoError(WarroomError):
    """Keys or protected data cannot be used; the message says what is wrong."""


class KeySourceError(CryptoError):
    """The key source is missing, unreadable, too open, or malformed."""


class TamperedData(CryptoError):
    """A ciphertext or signature does not verify: wrong key, or changed data."""

"""Personal attributes of features (registry ``personal=``): sealed at rest, masked when read.

The column of a personal attribute holds its SM4-GCM sealed value, bound to the row
(``layers.crypto.fields``); ``<name>_index`` holds its blind index, which is how a filter
finds it. Every read shows the mask (``138****1234``); the plain value leaves only
through ``reveal_personal``, which needs ``Permission.PERSONAL_READ`` and writes one audit
record per read. The key ring comes from the session (``layers.crypto.keys.key_ring_of``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, bindparam, false
from sqlalchemy.orm import Session, object_session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.base import Feature
from layers.crypto.columns import PersonalColumn, index_column
from layers.crypto.fields import FieldCipher
from layers.crypto.keys import key_ring_of
from layers.crypto.personal import BlindIndex, PersonalKind, mask, normalise
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec

PlainValues = dict[str, str | None]


def personal_kinds(spec: LayerSpec) -> dict[str, PersonalKind]:
    """Return the layer's personal attributes and the kind of value each holds."""
    return {a.name: a.personal for a in spec.attributes if a.personal is not None}


def personal_columns(spec: LayerSpec) -> list[PersonalColumn]:
    """Return the layer's personal attributes as sealed columns (for bulk writers)."""
    return [PersonalColumn(spec.table, name, kind) for name, kind in personal_kinds(spec).items()]


def split_personal(
    spec: LayerSpec, values: Mapping[str, Any]
) -> tuple[dict[str, Any], PlainValues]:
    """Return ``values`` without the personal attributes, and those apart."""
    kinds = personal_kinds(spec)
    rest = {k: v for k, v in values.items() if k not in kinds}
    return rest, {k: v for k, v in values.items() if k in kinds}


def seal_personal(session: Session, spec: LayerSpec, feature: Feature, values: PlainValues) -> None:
    """Store ``values`` of personal attributes on a flushed feature, sealed and indexed."""
    ring = key_ring_of(session)
    cipher, blind = FieldCipher(ring), BlindIndex(ring)
    for name, kind in personal_kinds(spec).items():
        if name not in values:
            continue
        plain = values[name]
        sealed = None if plain is None else cipher.seal(plain, (spec.table, name, feature.id))
        setattr(feature, name, sealed)
        setattr(feature, index_column(name), None if plain is None else blind.digest(kind, plain))


def _open(cipher: FieldCipher, spec: LayerSpec, name: str, row_id: int, sealed: Any) -> str | None:
    return None if sealed is None else cipher.open(bytes(sealed), (spec.table, name, row_id))


def opened_personal(spec: LayerSpec, feature: Feature) -> PlainValues:
    """Return the plain values of a stored feature's personal attributes."""
    session = object_session(feature)
    names = personal_kinds(spec)
    if session is None or not names:
        return {}
    cipher = FieldCipher(key_ring_of(session))
    return {name: _open(cipher, spec, name, feature.id, getattr(feature, name)) for name in names}


def masked_personal(spec: LayerSpec, plain: PlainValues) -> PlainValues:
    """Return the masks of plain personal values (None stays None)."""
    kinds = personal_kinds(spec)
    return {name: None if v is None else mask(kinds[name], v) for name, v in plain.items()}


def reveal_personal(
    *, session: Session, spec: LayerSpec, feature: Feature, actor: Actor
) -> PlainValues:
    """Return a feature's personal values in full, if ``actor`` may; audited either way."""
    action = f"{spec.id}.personal_read"
    with audited_denials(session, actor, action, spec.id, feature.id):
        actor.require(Permission.PERSONAL_READ)
    plain = opened_personal(spec, feature)
    record_audit(session, actor=actor, action=action, target_type=spec.id, target_id=feature.id,
                 detail=", ".join(name for name, v in plain.items() if v is not None))  # fmt: skip
    return plain


class PersonalReader:
    """Opens the sealed personal values of rows read in bulk: masked, or in full."""

    def __init__(self, session: Session, spec: LayerSpec, *, full: bool = False) -> None:
        self.spec, self.full = spec, full
        self._kinds = personal_kinds(spec)
        self._cipher = FieldCipher(key_ring_of(session)) if self._kinds else None

    def value(self, row_id: int, name: str, sealed: Any) -> str | None:
        """Return the shown value of personal attribute ``name`` of row ``row_id``."""
        if sealed is None or self._cipher is None:
            return None
        plain = _open(self._cipher, self.spec, name, row_id, sealed)
        return plain if self.full or plain is None else mask(self._kinds[name], plain)


class PageMasker:
    """Adds the masks of personal values to the properties JSON of a page's rows."""

    def __init__(self, session: Session, spec: LayerSpec, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self._reader = PersonalReader(session, spec) if self.names else None

    def properties(self, row_id: int, properties: str, sealed: Sequence[Any]) -> str:
        """Return ``properties`` (a JSON object) with each personal name's mask added."""
        if self._reader is None:
            return properties
        shown = {
            n: self._reader.value(row_id, n, v) for n, v in zip(self.names, sealed, strict=True)
        }
        extra = json.dumps(shown, ensure_ascii=False)[1:-1]
        return properties[:-1] + ("," if properties != "{}" else "") + extra + "}"


def require_reveal(session: Session, spec: LayerSpec, actor: Actor, what: str) -> None:
    """Raise ``PermissionDenied`` (audited) unless ``actor`` may read personal values in full.

    When it may, the read is audited: ``what`` says which.
    """
    action = f"{spec.id}.personal_read"
    with audited_denials(session, actor, action, spec.id, None):
        actor.require(Permission.PERSONAL_READ)
    record_audit(session, actor=actor, action=action, target_type=spec.id, detail=what[:500])


def blind_clause(
    session: Session, spec: LayerSpec, name: str, values: Sequence[str]
) -> ColumnElement[bool]:
    """Return "personal attribute ``name`` equals one of ``values``", by its blind index."""
    kind = personal_kinds(spec).get(name)
    if kind is None:
        raise InvalidInput(f"{name} is not a personal attribute of {spec.id!r}")
    blind = BlindIndex(key_ring_of(session))
    digests = [d for v in values if normalise(kind, v) for d in blind.candidates(kind, v)]
    if not digests:
        return false()
    column: ColumnElement[bytes] = getattr(spec.model, index_column(name))
    return column.in_(bindparam(f"{name}_digests", digests, expanding=True, type_=LargeBinary))

"""Personal details of records (``RecordKind.personal``): sealed at rest, masked when read.

A field is a key of ``records.details``, or a dotted path into it (an approval's
``payload.properties.contact_phone``). Each holds ``"sm4:" + base64(sealed value)``,
bound to its record and field (``layers.crypto.fields``); ``record_personal_index``
keeps its blind-index digest for an exact search (``find_records``). Reads show masks;
``reveal_details`` gives the plain values to a role with ``Permission.PERSONAL_READ``,
one audit record per read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, text
from sqlalchemy.orm import Session, object_session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.crypto.fields import FieldCipher, Place, sealed_version
from layers.crypto.keys import KeyRing, key_ring_of
from layers.crypto.personal import BlindIndex, PersonalKind, mask, normalise
from layers.errors import InvalidInput
from layers.records.kinds import RecordKind
from layers.records.models import Record, RecordPersonalIndex
from layers.records.reading import visible_clause

SEALED = "sm4:"
Fields = Mapping[str, PersonalKind]


def _place(record_id: int, field: str) -> Place:
    return ("records", f"details.{field}", record_id)


def _get(details: Mapping[str, Any], field: str) -> Any:
    """Return the value at ``field`` (a key or a dotted path), None where there is none."""
    value: Any = details
    for key in field.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _with(details: Mapping[str, Any], field: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``details`` with ``value`` at ``field`` (the path exists)."""
    key, _, rest = field.partition(".")
    return {**details, key: _with(details[key], rest, value) if rest else value}


def _plain(cipher: FieldCipher, record_id: int, field: str, value: Any) -> str:
    """Return the plain text of a stored value (sealed, or plain from before sealing)."""
    if isinstance(value, str) and value.startswith(SEALED):
        sealed = base64.b64decode(value[len(SEALED) :])
        return cipher.open(sealed, _place(record_id, field))
    return str(value)


def seal_details(
    ring: KeyRing, record_id: int, details: Mapping[str, Any], fields: Fields
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Return ``details`` with each personal field sealed under the current key, and digests."""
    cipher, blind = FieldCipher(ring), BlindIndex(ring)
    sealed, digests = dict(details), {}
    for field, kind in fields.items():
        value = _get(details, field)
        if value is None:
            continue
        plain = _plain(cipher, record_id, field, value)
        token = cipher.seal(plain, _place(record_id, field))
        sealed = _with(sealed, field, SEALED + base64.b64encode(token).decode())
        digests[field] = blind.digest(kind, plain)
    return sealed, digests


def open_details(
    ring: KeyRing, record_id: int, details: Mapping[str, Any], fields: Fields
) -> dict[str, Any]:
    """Return ``details`` with each personal field in plain text."""
    cipher, plain = FieldCipher(ring), dict(details)
    for field in fields:
        value = _get(details, field)
        if value is not None:
            plain = _with(plain, field, _plain(cipher, record_id, field, value))
    return plain


def seal_record(session: Session, record: Record, kind: RecordKind) -> None:
    """Seal a flushed record's personal details and index them (in the caller's transaction)."""
    if not kind.personal:
        return
    record.details, digests = seal_details(key_ring_of(session), record.id, record.details,
                                           kind.personal)  # fmt: skip
    session.execute(delete(RecordPersonalIndex).where(RecordPersonalIndex.record_id == record.id))
    if digests:
        session.execute(insert(RecordPersonalIndex), [
            {"record_id": record.id, "field": f, "digest": d} for f, d in digests.items()
        ])  # fmt: skip


def refuse_bulk_personal(kind: RecordKind, details: Mapping[str, Any]) -> None:
    """Raise ``InvalidInput`` if ``details`` hold personal values (sealed one record at a time)."""
    given = [f for f in kind.personal if _get(details, f) is not None]
    if given:
        raise InvalidInput(f"{kind.id} records with personal details ({', '.join(given)}) are "
                           "created one at a time, not in bulk")  # fmt: skip


def shown_details(record: Record, kind: RecordKind) -> dict[str, Any]:
    """Return a record's details with personal fields masked."""
    session = object_session(record)
    if not kind.personal or session is None:
        return record.details
    shown = plain = open_details(key_ring_of(session), record.id, record.details, kind.personal)
    for field, personal_kind in kind.personal.items():
        value = _get(plain, field)
        if value is not None:
            shown = _with(shown, field, mask(personal_kind, value))
    return shown


def reveal_details(
    *, session: Session, record: Record, kind: RecordKind, actor: Actor
) -> dict[str, Any]:
    """Return a record's details in full, if ``actor`` may; audited either way."""
    action = f"{kind.id}.personal_read"
    with audited_denials(session, actor, action, kind.id, record.id):
        actor.require(Permission.PERSONAL_READ)
    shown = [f for f in kind.personal if _get(record.details, f) is not None]
    record_audit(session, actor=actor, action=action, target_type=kind.id,
                 target_id=record.id, detail=", ".join(shown))  # fmt: skip
    return open_details(key_ring_of(session), record.id, record.details, kind.personal)


def find_records(
    *, session: Session, kind: RecordKind, field: str, value: str, actor: Actor, limit: int
) -> list[Record]:
    """Return the records of ``kind`` the actor may see whose ``field`` equals ``value``."""
    actor.require(Permission.RECORDS_READ)
    personal_kind = kind.personal.get(field)
    if personal_kind is None:
        raise InvalidInput(f"{kind.id} records are found by {', '.join(kind.personal) or 'none'}")
    if not normalise(personal_kind, value):
        raise InvalidInput(f"give a value of {field} to find")
    digests = BlindIndex(key_ring_of(session)).candidates(personal_kind, value)
    matching = select(RecordPersonalIndex.record_id).where(
        RecordPersonalIndex.field == field, RecordPersonalIndex.digest.in_(digests)
    )
    return list(session.scalars(
        select(Record).where(Record.id.in_(matching), Record.kind == kind.id,
                             visible_clause(actor))
        .order_by(Record.id.desc()).limit(limit)
    ))  # fmt: skip


def reseal_records(
    connection: Connection, ring: KeyRing, fields_by_kind: Mapping[str, Fields],
    batch: int = 1_000,
) -> int:  # fmt: skip
    """Seal every personal detail of the given kinds under the current key; return the rows.

    Plain values (from before sealing) are sealed, others re-sealed; the digests are
    recomputed. Records already sealed under the current key are left alone, so a rerun
    continues where a stopped one ended.
    """
    done, after = 0, 0
    select_batch = text("SELECT id, kind, details FROM records WHERE kind = ANY(:kinds) "
                        "AND id > :after ORDER BY id LIMIT :n FOR UPDATE")  # fmt: skip
    while rows := connection.execute(
        select_batch, {"kinds": list(fields_by_kind), "after": after, "n": batch}
    ).all():
        for record_id, kind, details in rows:
            if _current(ring, details, fields_by_kind[kind]):
                continue
            done += 1
            sealed, digests = seal_details(ring, record_id, details, fields_by_kind[kind])
            connection.execute(
                text("UPDATE records SET details = CAST(:d AS jsonb) WHERE id = :id"),
                {"d": _json(sealed), "id": record_id},
            )
            connection.execute(
                delete(RecordPersonalIndex).where(RecordPersonalIndex.record_id == record_id)
            )
            if digests:
                connection.execute(insert(RecordPersonalIndex), [
                    {"record_id": record_id, "field": f, "digest": d} for f, d in digests.items()
                ])  # fmt: skip
        after = rows[-1][0]
    return done


def stale_records(engine: Engine, ring: KeyRing, fields_by_kind: Mapping[str, Fields]) -> int:
    """Return how many records of the given kinds hold details sealed under another key."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT kind, details FROM records WHERE kind = ANY(:kinds)"),
            {"kinds": list(fields_by_kind)},
        )
        return sum(not _current(ring, details, fields_by_kind[kind]) for kind, details in rows)


def reseal_personal_records(
    engine: Engine, ring: KeyRing, fields_by_kind: Mapping[str, Fields]
) -> int:
    """Re-seal the records' personal details under the current key (one transaction)."""
    with engine.begin() as connection:
        return reseal_records(connection, ring, fields_by_kind)


def _current(ring: KeyRing, details: Mapping[str, Any], fields: Fields) -> bool:
    """Return whether every personal value in ``details`` is sealed under the current key."""
    return all(
        isinstance(value, str) and value.startswith(SEALED)
        and sealed_version(base64.b64decode(value[len(SEALED) :])) == ring.current
        for field in fields if (value := _get(details, field)) is not None
    )  # fmt: skip


def open_records(
    connection: Connection, ring: KeyRing, fields_by_kind: Mapping[str, Fields]
) -> None:
    """Write every personal detail of the given kinds back in plain text (a downgrade)."""
    rows = connection.execute(
        text("SELECT id, kind, details FROM records WHERE kind = ANY(:kinds)"),
        {"kinds": list(fields_by_kind)},
    ).all()
    for record_id, kind, details in rows:
        plain = open_details(ring, record_id, details, fields_by_kind[kind])
        connection.execute(text("UPDATE records SET details = CAST(:d AS jsonb) WHERE id = :id"),
                           {"d": _json(plain), "id": record_id})  # fmt: skip


def _json(details: Mapping[str, Any]) -> str:
    return json.dumps(details, ensure_ascii=False)

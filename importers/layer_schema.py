"""What a layer's table carries beyond its columns, read from the catalogue.

A bulk load rebuilds all of it on the table that replaces the layer (``importers.shadow``):
indexes (with the constraints that own them), the layer's own foreign keys, the keys of
other tables pointing at it, triggers, owned sequences and grants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from importers.staging import quote
from layers.features.registry import LayerSpec


@dataclass(frozen=True)
class IndexPlan:
    """One index of the layer: its name, how to build it on the new table, its constraint."""

    name: str
    definition: str
    constraint: str | None = None  # 'PRIMARY KEY' or 'UNIQUE' when a constraint owns it
    cost: int = 1


@dataclass(frozen=True)
class LayerSchema:
    """What the new table must get before it can stand in for the layer."""

    indexes: list[IndexPlan]
    foreign_keys: list[tuple[str, str]]  # (name, definition) of the layer's own keys
    referencing: list[tuple[str, str, str]]  # (table, name, definition) of keys to the layer
    triggers: list[str]
    sequences: list[tuple[str, str]]  # (sequence, column) the layer owns
    grants: list[str] = field(default_factory=list)


_BLOCKERS = """
SELECT (SELECT count(*) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.refobjid = :t AND r.ev_class <> :t)
     + (SELECT count(*) FROM pg_policy WHERE polrelid = :t)
     + (SELECT count(*) FROM pg_publication_rel WHERE prrelid = :t)
     + (SELECT count(*) FROM pg_inherits WHERE inhrelid = :t OR inhparent = :t)
"""
_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), con.contype, a.amname,
       EXISTS (SELECT 1 FROM pg_attribute AS att WHERE att.attrelid = i.indrelid
               AND att.attnum = ANY(i.indkey) AND att.atttypid IN ('text'::regtype,
               'varchar'::regtype)) AS on_text
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam
LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
WHERE i.indrelid = :t ORDER BY c.relname
"""
_KEYS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), conrelid = :t
FROM pg_constraint WHERE contype = 'f' AND (conrelid = :t OR confrelid = :t) ORDER BY conname
"""
_TRIGGERS = "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = :t AND NOT tgisinternal"
_SEQUENCES = """
SELECT s.oid::regclass::text, a.attname FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.refobjid = :t AND d.deptype = 'a'
"""
_GRANTS = """
SELECT privilege_type, CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grantee::regrole::text)
       END FROM pg_class, aclexplode(relacl) WHERE oid = :t
"""
# Heavier index types first: with several builders the longest build starts at once.
_COST = {"gin": 8, "gist": 4}
_TEXT_COST = 2  # a btree over text sorts slower than one over numbers


def read_schema(session: Session, spec: LayerSpec) -> LayerSchema | None:
    """Return what the layer's table carries, or None if it cannot be swapped.

    A view, row-security policy, publication or inheritance on the table would not
    follow a swap; such a layer is loaded in place instead.
    """
    table = {"t": session.scalar(text("SELECT to_regclass(:n)::oid"), {"n": spec.table})}
    if session.scalar(text(_BLOCKERS), table):
        return None
    owning = {"p": "PRIMARY KEY", "u": "UNIQUE"}
    indexes = []
    for name, definition, kind, method, on_text in session.execute(text(_INDEXES), table):
        cost = _COST.get(method, _TEXT_COST if on_text else 1)
        indexes.append(IndexPlan(name, definition, owning.get(kind or ""), cost))
    keys = session.execute(text(_KEYS), table).all()
    grants = session.execute(text(_GRANTS), table).all()
    return LayerSchema(
        indexes=indexes,
        foreign_keys=[(name, definition) for _, name, definition, own in keys if own],
        referencing=[(owner, name, sql) for owner, name, sql, own in keys if not own],
        triggers=list(session.scalars(text(_TRIGGERS), table)),
        sequences=[(seq, column) for seq, column in session.execute(text(_SEQUENCES), table)],
        grants=[f"GRANT {what} ON {quote(spec.table)} TO {whom}" for what, whom in grants],
    )


def build_statement(plan: IndexPlan, index: str, table: str) -> str:
    """Return the index's definition retargeted to ``index`` on ``table``."""
    head = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ")
    match = head.match(plan.definition)
    if match is None:
        raise ValueError(f"unexpected index definition: {plan.definition}")
    unique = match.group(1) or ""
    return f"CREATE {unique}INDEX {quote(index)} ON {quote(table)} {plan.definition[match.end() :]}"

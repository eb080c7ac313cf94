"""personal fields encrypted at rest with key versions and blind indexes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Units' ``contact_name`` and ``contact_phone`` become SM4-GCM sealed ``bytea`` with a
blind-index column each (``*_index``, indexed for exact search); staff registrations',
clues' and approvals' (a unit's proposed contact) personal details are sealed inside
``records.details``, their digests in ``record_personal_index``. Existing plain values
are sealed here, with the key ring of the configured source (``WARROOM_CRYPTO_*``, read
only when there is something to seal); the downgrade opens them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from layers.crypto.columns import PersonalColumn, seal_many
from layers.crypto.fields import FieldCipher
from layers.crypto.keys import KeyRing, load_key_ring
from layers.crypto.personal import PersonalKind
from layers.settings import CryptoSettings

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UNIT_COLUMNS = (
    PersonalColumn("units", "contact_name", "name"),
    PersonalColumn("units", "contact_phone", "phone"),
)
# The record kinds with personal details at this revision, and the kind of each field.
RECORD_FIELDS: dict[str, dict[str, PersonalKind]] = {
    "staff_registration": {"person_name": "name", "id_number": "id_number", "phone": "phone"},
    "clue": {"informant": "name"},
    "approval": {"payload.properties.contact_name": "name",
                 "payload.properties.contact_phone": "phone"},
}  # fmt: skip
BATCH = 5_000


def _ring() -> KeyRing:
    return load_key_ring(CryptoSettings())


def _seal_units(connection: sa.Connection, ring: KeyRing) -> None:
    after = 0
    while rows := connection.execute(sa.text(
        "SELECT id, legacy_contact_name, legacy_contact_phone FROM units WHERE id > :after "
        "AND (legacy_contact_name IS NOT NULL OR legacy_contact_phone IS NOT NULL) "
        "ORDER BY id LIMIT :n"
    ), {"after": after, "n": BATCH}).all():  # fmt: skip
        ids = [r[0] for r in rows]
        values: list[dict[str, object]] = [{"row_id": i} for i in ids]
        for position, column in enumerate(UNIT_COLUMNS, start=1):
            sealed, digests = seal_many(ring, column, ids, [r[position] for r in rows])
            for value, s, d in zip(values, sealed, digests, strict=True):
                value[column.column], value[column.index] = s, d
        names = [n for c in UNIT_COLUMNS for n in (c.column, c.index)]
        statement = sa.text(
            f"UPDATE units SET {', '.join(f'{n} = :{n}' for n in names)} WHERE id = :row_id"
        ).bindparams(*(sa.bindparam(n, type_=sa.LargeBinary) for n in names))
        connection.execute(statement, values)
        after = ids[-1]


def upgrade() -> None:
    """Seal the units' contacts and the records' personal details."""
    connection = op.get_bind()
    for column in UNIT_COLUMNS:
        op.alter_column("units", column.column, new_column_name=f"legacy_{column.column}")
        op.add_column("units", sa.Column(column.column, sa.LargeBinary(), nullable=True))
        op.add_column("units", sa.Column(column.index, sa.LargeBinary(), nullable=True))
    has_contacts = connection.scalar(sa.text(
        "SELECT EXISTS (SELECT 1 FROM units WHERE legacy_contact_name IS NOT NULL "
        "OR legacy_contact_phone IS NOT NULL)"
    ))  # fmt: skip
    has_records = connection.scalar(
        sa.text("SELECT EXISTS (SELECT 1 FROM records WHERE kind = ANY(:kinds))"),
        {"kinds": list(RECORD_FIELDS)},
    )
    ring = _ring() if has_contacts or has_records else None
    if ring is not None and has_contacts:
        _seal_units(connection, ring)
    for column in UNIT_COLUMNS:
        op.drop_column("units", f"legacy_{column.column}")
        op.create_index(f"ix_units_{column.index}", "units", [column.index],
                        postgresql_where=sa.text(f"{column.index} IS NOT NULL"))  # fmt: skip
    op.create_table(
        "record_personal_index",
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "field"),
    )
    op.create_index("ix_record_personal_index_digest", "record_personal_index",
                    ["field", "digest"])  # fmt: skip
    if ring is not None and has_records:
        from layers.records.personal import reseal_records

        reseal_records(connection, ring, RECORD_FIELDS)


def downgrade() -> None:
    """Open the sealed values into plain columns and details again."""
    connection = op.get_bind()
    has_records = connection.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM record_personal_index)"))
    has_contacts = connection.scalar(sa.text(
        "SELECT EXISTS (SELECT 1 FROM units WHERE contact_name IS NOT NULL "
        "OR contact_phone IS NOT NULL)"
    ))  # fmt: skip
    ring = _ring() if has_contacts or has_records else None
    if ring is not None and has_records:
        from layers.records.personal import open_records

        open_records(connection, ring, RECORD_FIELDS)
    op.drop_index("ix_record_personal_index_digest", table_name="record_personal_index")
    op.drop_table("record_personal_index")
    lengths = {"contact_name": 64, "contact_phone": 32}
    for column in UNIT_COLUMNS:
        op.drop_index(f"ix_units_{column.index}", table_name="units")
        restored = sa.Column(f"plain_{column.column}", sa.String(lengths[column.column]))
        op.add_column("units", restored)
    if ring is not None and has_contacts:
        cipher = FieldCipher(ring)
        rows = connection.execute(
            sa.text("SELECT id, contact_name, contact_phone FROM units "
                    "WHERE contact_name IS NOT NULL OR contact_phone IS NOT NULL")
        ).all()  # fmt: skip
        plain = [
            {"row_id": r[0], **{
                f"plain_{c.column}": None if r[i] is None
                else cipher.open(bytes(r[i]), ("units", c.column, r[0]))
                for i, c in enumerate(UNIT_COLUMNS, start=1)
            }} for r in rows
        ]  # fmt: skip
        connection.execute(sa.text(
            "UPDATE units SET plain_contact_name = :plain_contact_name, "
            "plain_contact_phone = :plain_contact_phone WHERE id = :row_id"
        ), plain)  # fmt: skip
    for column in UNIT_COLUMNS:
        op.drop_column("units", column.index)
        op.drop_column("units", column.column)
        op.alter_column("units", f"plain_{column.column}", new_column_name=column.column)

"""Personal attributes in an import: sealed for each row's final id before the COPY.

A sealed value is bound to its row (``layers.crypto.fields``), so every accepted row of
a file that writes a personal attribute gets its id before it is encoded: a row that
updates a feature keeps that feature's id, a new row draws one from the layer's
sequence. The rows then travel with their ids, sealed values and blind-index digests,
and no plain personal value is written to the database.

Exports show personal values masked, so a masked value (``138****1234``) coming back in
a file stands for the stored one: a row updating a feature keeps that feature's sealed
value as it is, a new row gets none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from importers.checks import Existing
from layers.crypto.columns import PersonalColumn, seal_many
from layers.crypto.keys import KeyRing, key_ring_of
from layers.crypto.personal import looks_masked
from layers.features.personal import personal_columns
from layers.features.registry import LayerSpec

_DRAW_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")


@dataclass
class Sealer:
    """Gives accepted rows their final ids and seals their personal values for them."""

    session: Session
    spec: LayerSpec
    ring: KeyRing
    columns: list[PersonalColumn]
    existing: dict[str, int]  # feature id by row key, for an upsert

    def seal(
        self, values: dict[str, pd.Series], keys: pd.Series | None, count: int
    ) -> tuple[dict[str, pd.Series], npt.NDArray[np.int64]]:
        """Return ``values`` with personal ones sealed, their digests last, and each row's id.

        A row that updates a feature keeps its id; the others draw new ones.
        """
        known = [self.existing.get(k, 0) for k in keys] if keys is not None else [0] * count
        ids = np.asarray(known, dtype=np.int64).reshape(count)
        new = ids == 0
        if new.any():
            drawn = self.session.scalars(_DRAW_IDS, {"table": self.spec.table, "n": int(new.sum())})
            ids[new] = np.fromiter(drawn, dtype=np.int64, count=int(new.sum()))
        sealed, digests = dict(values), {}
        for column in self.columns:
            texts = [v or None for v in values[column.column]]
            masked = [i for i, t in enumerate(texts) if t is not None and looks_masked(t)]
            for i in masked:
                texts[i] = None
            made, index = seal_many(self.ring, column, ids.tolist(), texts)
            stored = self._stored(column, [int(ids[i]) for i in masked])
            for i in masked:
                made[i], index[i] = stored.get(int(ids[i]), (None, None))
            sealed[column.column] = pd.Series(made, dtype=object)
            digests[column.index] = pd.Series(index, dtype=object)
        return sealed | digests, ids  # digests after every attribute, as ``copy_columns`` has

    def _stored(self, column: PersonalColumn, ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
        """Return the stored sealed value and digest of ``column`` for the rows ``ids``."""
        if not ids:
            return {}
        rows = self.session.execute(text(
            f"SELECT id, {column.column}, {column.index} FROM {self.spec.table} "
            f"WHERE id = ANY(:ids) AND {column.column} IS NOT NULL"
        ), {"ids": ids})  # fmt: skip
        return {int(r[0]): (bytes(r[1]), bytes(r[2])) for r in rows}


def sealer_for(
    session: Session, spec: LayerSpec, attributes: list[str], existing: Existing, upsert: bool
) -> Sealer | None:
    """Return the sealer of an import writing personal ``attributes`` (None if it writes none)."""
    columns = [c for c in personal_columns(spec) if c.column in attributes]
    if not columns:
        return None
    return Sealer(session, spec, key_ring_of(session), columns, existing.ids if upsert else {})

"""Export a layer (what the actor may see) in any format the importers read back.

Every row carries its feature ``id`` and ``external_id``, so an export goes back in
with ``warroom import --mode upsert`` (a row without an external id is matched by its
feature id) and nothing is lost or duplicated. Coordinates in GCJ-02 or BD-09 are
named so in every format (``importers.offset_crs``); KML, which is WGS84 by
definition, is refused in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import crs as geo_crs
from importers.offset_crs import column_suffix, offset_crs
from importers.writers import WRITE_FORMATS, write_table
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import record_audit
from layers.backup.manifest import sm3_file
from layers.crypto.sm2 import SM2Signer
from layers.errors import InvalidInput
from layers.features.personal import PersonalReader, personal_kinds, require_reveal
from layers.features.registry import LayerSpec

EXPORT_CRS = tuple(system.value for system in geo_crs.CoordSystem)


@dataclass
class Export:
    """What an export wrote: how many features, how many values it cut, what to tell."""

    count: int
    cut: int = 0
    notes: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _shift(geoms: np.ndarray, crs: str) -> np.ndarray:
    if crs == geo_crs.CoordSystem.WGS84.value:
        return geoms

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = geo_crs.convert(coords[:, 0], coords[:, 1], "wgs84", crs)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, convert), dtype=object)


def check_export(fmt: str, crs: str) -> geo_crs.CoordSystem:
    """Return the system of an export of ``fmt`` in ``crs``; refuse what cannot be honest."""
    if fmt not in WRITE_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; known: {', '.join(WRITE_FORMATS)}")
    if crs not in EXPORT_CRS:
        raise InvalidInput(f"unknown export crs {crs!r}; known: {', '.join(EXPORT_CRS)}")
    system = geo_crs.CoordSystem(crs)
    if fmt == "kml" and system is not geo_crs.CoordSystem.WGS84:
        raise InvalidInput(f"KML coordinates are WGS84 by definition (OGC KML 2.2) and cannot "
                           f"say {crs}: export KML in wgs84, or {crs} as geojson, gpkg, shp, "
                           "csv or xlsx, which name it")  # fmt: skip
    return system


def export_layer(
    *, session: Session, spec: LayerSpec, actor: Actor, fmt: str, crs: str, path: Path,
    reveal: bool = False,
) -> Export:  # fmt: skip
    """Write the features of ``spec`` inside the actor's scope to ``path``; audit the export.

    Personal values are masked unless ``reveal`` (a role with ``personal:read``, audited).
    """
    actor.require(Permission.FEATURES_READ)
    system = check_export(fmt, crs)
    if reveal:
        require_reveal(session, spec, actor, f"export {fmt} {crs}")
    personal = PersonalReader(session, spec, full=reveal)
    model = spec.model
    names = ["id", "external_id", *(a.name for a in spec.attributes)]
    kinds = personal_kinds(spec)
    query = (
        select(*(getattr(model, n) for n in names), func.ST_AsBinary(model.geom))  # type: ignore[attr-defined]
        .where(actor.scope.clause(model))
        .order_by(model.id)
    )
    rows = session.execute(query).all()
    frame = pd.DataFrame(
        [[personal.value(row[0], n, v) if n in kinds else _plain(v)  # row[0]: the id
          for n, v in zip(names, row[:-1], strict=True)] for row in rows],
        columns=names,
    )  # fmt: skip
    geoms = np.asarray(shapely.from_wkb([bytes(row[-1]) for row in rows]), dtype=object)
    label = None if system is geo_crs.CoordSystem.WGS84 else offset_crs(system)
    written = write_table(frame, _shift(geoms, crs), label, fmt, path, layer=spec.id,
                          coordinate_suffix=column_suffix(system))  # fmt: skip
    shown = "personal values in full" if reveal else "personal values masked"
    record_audit(session, actor=actor, action=f"{spec.id}.export", target_type=spec.id,
                 detail=f"{fmt} {crs}: {len(rows)} features, {shown}")  # fmt: skip
    return Export(len(rows), written.cut, written.notes)


def default_export_name(spec: LayerSpec, fmt: str, crs: str) -> str:
    """Return the file name an export of ``spec`` gets by default."""
    suffix = "" if crs == "wgs84" else f"_{crs}"
    return f"{spec.id}{suffix}{WRITE_FORMATS[fmt][0]}"


def seal_headers(path: Path, signer: SM2Signer | None) -> dict[str, str]:
    """Return the headers that seal an export: its SM3 digest, and the digest's SM2 signature.

    The signature covers the 64 ASCII hex digits of the digest (SM2 hashes what it signs
    with SM3 once more), so a large file is read once, by OpenSSL's SM3.
    """
    digest = sm3_file(path)
    headers = {"X-Export-SM3": digest}
    if signer is not None and signer.private_key is not None:
        headers["X-Export-Signature"] = signer.sign(digest.encode())
    return headers

"""Export a layer (what the actor may see) in any format the importers read back."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import crs as geo_crs
from importers.writers import WRITE_FORMATS, write_table
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec

EXPORT_CRS = tuple(system.value for system in geo_crs.CoordSystem)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _shift(geoms: np.ndarray, crs: str) -> np.ndarray:
    if crs == geo_crs.CoordSystem.WGS84.value:
        return geoms

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = geo_crs.convert(coords[:, 0], coords[:, 1], "wgs84", crs)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, convert), dtype=object)


def export_layer(
    *, session: Session, spec: LayerSpec, actor: Actor, fmt: str, crs: str, path: Path
) -> int:
    """Write the features of ``spec`` inside the actor's scope to ``path``; return the count."""
    actor.require(Permission.FEATURES_READ)
    if fmt not in WRITE_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; known: {', '.join(WRITE_FORMATS)}")
    if crs not in EXPORT_CRS:
        raise InvalidInput(f"unknown export crs {crs!r}; known: {', '.join(EXPORT_CRS)}")
    model = spec.model
    names = ["external_id", *(a.name for a in spec.attributes)]
    query = (
        select(*(getattr(model, n) for n in names), func.ST_AsBinary(model.geom))  # type: ignore[attr-defined]
        .where(actor.scope.clause(model))
        .order_by(model.id)
    )
    rows = session.execute(query).all()
    frame = pd.DataFrame([[_plain(v) for v in row[:-1]] for row in rows], columns=names)
    geoms = np.asarray(shapely.from_wkb([bytes(row[-1]) for row in rows]), dtype=object)
    write_table(frame, _shift(geoms, crs), None, fmt, path, layer=spec.id)
    return len(rows)


def default_export_name(spec: LayerSpec, fmt: str, crs: str) -> str:
    """Return the file name an export of ``spec`` gets by default."""
    suffix = "" if crs == "wgs84" else f"_{crs}"
    return f"{spec.id}{suffix}{WRITE_FORMATS[fmt][0]}"

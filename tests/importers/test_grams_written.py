"""An import writes its rows' search grams itself: exactly the arrays the database computes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from importers import loads
from layers.crypto.keys import KeyRing, bind_key_ring
from layers.demo.load import load_demo_city
from tests.importers.conftest import Importer, importer_on

# Full-width and mixed-case Latin, accents, other scripts, astral characters, blanks.
NAMES = [
    "中国农业银行北京新源街支行", "北京ＫＴＶ", "ｋｔｖ", "ＫtＶ有限公司", "Mixed Case KTV",
    "ÀÉÎõü Straße İstanbul", "ΑΒΓ δεζ Жук", "😀🚓 警务站 𠀋𠀌", "１２３号", "  two  spaces ",
    "a", "（朝阳）·店-2",
]  # fmt: skip
ADDRESSES = ["京西路１号", None, "Ｒｏａｄ 7", "𠀋街"]
_CHECK = """
SELECT count(*), count(*) FILTER (WHERE name_grams IS DISTINCT FROM text_grams(name)
                                     OR address_grams IS DISTINCT FROM text_grams(address))
FROM units WHERE external_id LIKE :prefix
"""


def _csv(path: Path, prefix: str, n: int, suffix: str = "") -> Path:
    pd.DataFrame({
        "id": [f"{prefix}{i}" for i in range(n)],
        "name": [NAMES[i % len(NAMES)] + suffix for i in range(n)],
        "address": [ADDRESSES[i % len(ADDRESSES)] for i in range(n)],
        "category": "bank",
        "lon": [116.30 + 0.0005 * i for i in range(n)],
        "lat": 39.90,
    }).to_csv(path, index=False)  # fmt: skip
    return path


def _rows_and_stale(factory: sessionmaker[Session], prefix: str) -> tuple[int, int]:
    with factory() as session:
        total, stale = session.execute(text(_CHECK), {"prefix": prefix + "%"}).one()
        grams_on = session.scalar(text("SELECT tgenabled FROM pg_trigger "
                                       "WHERE tgname = 'units_grams'"))  # fmt: skip
    assert grams_on == "O"  # the trigger is back for every other writer
    return int(total), int(stale)


def test_an_import_into_the_layer_writes_the_grams_the_database_would(
    run: Importer, session_factory: sessionmaker[Session], prefix: str, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "units.csv", prefix, 40)
    assert run(path, "units", id_field="id").inserted == 40
    assert _rows_and_stale(session_factory, prefix) == (40, 0)
    renamed = _csv(tmp_path / "renamed.csv", prefix, 40, suffix="Ｂ座")
    assert run(renamed, "units", id_field="id", mode="upsert").updated == 40
    assert _rows_and_stale(session_factory, prefix) == (40, 0)


@pytest.fixture
def small_city(scratch_database_url: str) -> Iterator[sessionmaker[Session]]:
    """A database of the test's own with a small demo city (200 units)."""
    engine = create_engine(scratch_database_url)
    keys = KeyRing.generate()
    load_demo_city(engine, units=200, seed=3, keys=keys)
    yield bind_key_ring(sessionmaker(bind=engine, expire_on_commit=False), keys)
    engine.dispose()


def test_a_bulk_import_writes_the_grams_the_database_would(
    small_city: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(loads, "BULK_ROWS", 1)  # a few hundred rows take the rebuild path
    path = _csv(tmp_path / "units.csv", "bulk-", 400)
    report = importer_on(small_city, tmp_path)(path, "units", id_field="id")
    assert report.inserted == 400
    assert _rows_and_stale(small_city, "bulk-") == (400, 0)

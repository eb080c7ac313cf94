"""The database keeps the search grams: rows written by plain SQL are found like any other."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.features.grams import grams_of, grams_of_values
from layers.features.models import text_search_columns
from layers.features.registry import all_layers
from tests.utils.users import bearer, make_user

# Full-width and mixed-case Latin, accented and non-Latin letters, astral characters
# (emoji, CJK extension B), digits, blanks and punctuation, empty and missing values.
SAMPLE = [
    "中国农业银行北京新源街支行", "北京ＫＴＶ", "ｋｔｖ", "ＫtＶ有限公司", "Mixed Case KTV",
    "ÀÉÎõü Straße İstanbul", "ΑΒΓ δεζ Жук", "😀🚓 警务站 𠀋𠀌", "１２３号", "  two  spaces ",
    "a", "Z", "", None, "（朝阳）·店-2", "\t\n", "\U0010fffd\uffff\ufeff",
]  # fmt: skip
# Any text PostgreSQL stores: no NUL, no lone surrogates.
TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def _database_grams(engine: Engine, values: list[str | None]) -> list[list[int] | None]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT text_grams(v) FROM unnest(CAST(:values AS text[])) WITH ORDINALITY "
                 "AS u(v, i) ORDER BY i"), {"values": values},
        ).scalars()  # fmt: skip
        return list(rows)


def _assert_same_as_python(engine: Engine, values: list[str | None]) -> None:
    offsets, grams = grams_of_values(values)
    for i, (value, mine) in enumerate(zip(values, _database_grams(engine, values), strict=True)):
        assert mine == grams_of(value), repr(value)
        assert (mine or []) == grams[offsets[i] : offsets[i + 1]].tolist(), repr(value)


def test_the_database_computes_the_very_arrays_python_and_arrow_compute(engine: Engine) -> None:
    _assert_same_as_python(engine, SAMPLE)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.none() | TEXTS, max_size=30))
def test_any_text_gets_the_same_grams_in_the_database(
    engine: Engine, values: list[str | None]
) -> None:
    _assert_same_as_python(engine, values)


def test_the_demo_loader_wrote_what_the_database_would(engine: Engine, city: None) -> None:
    with engine.connect() as connection:
        for layer in all_layers():
            for column in text_search_columns(layer.table):
                stale = connection.scalar(text(
                    f"SELECT count(*) FROM {layer.table} "
                    f"WHERE {column}_grams IS DISTINCT FROM text_grams({column})"
                ))  # fmt: skip
                assert stale == 0, (layer.table, column)


def _found(client: TestClient, headers: dict[str, str], q: str, like: str = "") -> set[int]:
    """Return the units ``/api/search`` finds for ``q``; CQL LIKE on ``like`` (or ``q``) agrees."""
    search = client.get("/api/search", params={"q": q, "layers": "units"}, headers=headers)
    assert search.status_code == 200, search.text
    found = {hit["id"] for hit in search.json()["data"]}
    like = like or q
    items = client.get(
        "/ogc/collections/units/items",
        params={"filter": f"name LIKE '%{like}%' OR address LIKE '%{like}%'", "limit": 100},
        headers=headers,
    )  # fmt: skip
    assert items.status_code == 200, items.text
    assert found == {f["id"] for f in items.json()["features"]}
    return found


def test_a_unit_written_by_plain_sql_is_found_by_search_and_like(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(client, make_user(session_factory, Role.ADMIN))
    tag = uuid.uuid4().hex[:6].upper()  # Latin letters and digits, in capitals
    with session_factory() as session, session.begin():
        unit = session.scalar(text(
            "INSERT INTO units (name, address, category, risk_level, is_key_unit, geom) "
            "VALUES (:name, :address, 'bank', 1, false, "
            "ST_SetSRID(ST_MakePoint(116.39, 39.91), 4326)) RETURNING id"
        ), {"name": f"测试{tag}银行", "address": f"京西{tag}路１号"})  # fmt: skip
    assert _found(client, headers, f"{tag.lower()}银行", like=f"{tag}银行") == {unit}
    assert _found(client, headers, f"{tag}路１") == {unit}
    with session_factory() as session, session.begin():
        session.execute(
            text("UPDATE units SET name = :name, address = NULL WHERE id = :id"),
            {"name": f"改名{tag}医院", "id": unit},
        )
    assert _found(client, headers, f"{tag}医院") == {unit}
    assert _found(client, headers, f"{tag}银行") == set()
    assert _found(client, headers, f"{tag}路") == set()
    with session_factory() as session, session.begin():  # grams written by hand are replaced
        session.execute(text("UPDATE units SET name_grams = '{1,2}' WHERE id = :id"), {"id": unit})
    assert _found(client, headers, f"{tag}医院") == {unit}

"""The migration builds the schema the models and the registry describe."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text

from layers.features.registry import all_layers
from layers.migrate import alembic_config
from tests.utils.derived import mercator_drift, stale_grams


def test_migration_matches_the_models(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises if autogenerate finds a difference


def test_every_layer_has_geometry_h3_and_indexes(engine: Engine) -> None:
    inspector = inspect(engine)
    with engine.connect() as conn:
        for spec in all_layers():
            columns = {c["name"] for c in inspector.get_columns(spec.table)}
            shared = {"id", "external_id", "geom", "h3_cell", "precinct_id", "district_id",
                      "version", "created_at", "updated_at"}  # fmt: skip
            assert shared <= columns, spec.id
            assert {a.name for a in spec.attributes} <= columns, spec.id
            srid, kind = conn.execute(
                text(
                    "SELECT srid, type FROM geometry_columns"
                    " WHERE f_table_name = :t AND f_geometry_column = 'geom'"
                ),
                {"t": spec.table},
            ).one()
            assert srid == 4326 and kind == spec.geometry_type.upper(), spec.id
            methods = dict(
                conn.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"),
                    {"t": spec.table},
                ).all()
            )
            assert "USING gist (geom)" in methods[f"ix_{spec.table}_geom"]
            assert f"ix_{spec.table}_h3_cell" in methods
            assert any("external_id" in d and "UNIQUE" in d for d in methods.values()), spec.id
            if spec.geometry_type == "MultiPolygon":
                assert "USING gin (h3_cover)" in methods[f"ix_{spec.table}_h3_cover"]


def test_downgrade_and_upgrade_again(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    engine = create_engine(scratch_database_url)
    command.downgrade(config, "base")
    assert "units" not in inspect(engine).get_table_names()
    command.upgrade(config, "head")
    assert "units" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_0008_0009_migrations_fill_grams_and_keep_the_mercator_copy(
    scratch_database_url: str,
) -> None:
    config = alembic_config(scratch_database_url)
    engine = create_engine(scratch_database_url)
    command.downgrade(config, "0007")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO units (name, category, address, risk_level, is_key_unit, geom) VALUES "
            "('北京鑫龘银行', 'bank', '建国路1号', 1, false, ST_Point(116.4, 39.9, 4326)), "
            "('北京燚KTV', 'shop', NULL, 1, false, ST_Point(116.5, 39.9, 4326))"
        ))  # fmt: skip
    command.upgrade(config, "head")
    with engine.begin() as conn:
        assert stale_grams(conn, "units") == []
        nulls = conn.scalar(text("SELECT count(*) FROM units WHERE name_grams IS NULL"))
        conn.execute(
            text("UPDATE units SET geom = ST_Point(116.3, 40.0, 4326) WHERE name = '北京燚KTV'")
        )
        conn.execute(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom) "
            "VALUES ('新', 'bank', 1, false, ST_Point(116.2, 39.8, 4326))"
        ))  # fmt: skip
        assert mercator_drift(conn, "units") < 1e-9  # the trigger's, as the generated column's
        assert conn.scalar(text("SELECT count(*) FROM units")) == 3
    assert nulls == 0
    engine.dispose()


def test_text_collations_match_the_models(engine: Engine) -> None:
    # alembic check does not compare collations; byte-order ids and codes are a choice
    # of the schema (migration 0006) that the models must state too.
    with engine.connect() as conn:
        database = dict(
            conn.execute(
                text(
                    "SELECT table_name || '.' || column_name, coalesce(collation_name, 'default') "
                    "FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND data_type IN ('character varying', 'text')"
                )
            ).all()
        )
    declared = {
        f"{spec.table}.{column.name}": getattr(column.type, "collation", None) or "default"
        for spec in all_layers()
        for column in spec.model.__table__.columns  # type: ignore[attr-defined]
        if f"{spec.table}.{column.name}" in database
    }
    assert declared and declared == {k: database[k] for k in declared}
    assert declared["units.external_id"] == "C"

"""search: the grams of names and addresses kept by the database, whoever writes the rows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

The ``c_grams`` columns (0008) were filled only by our Python writers, so a row inserted
or renamed by psql or an ETL tool was invisible to search and to CQL ``LIKE``. Now
``text_grams(text)`` computes them in the database (the same arrays as
``layers.features.grams.grams_of``: one gram per character in order, then the end gram),
and a row trigger on every feature table sets ``c_grams`` from ``c`` on every insert and
on every update naming ``c`` or ``c_grams``. ~2.6 µs a value; a bulk import builds its
new table without the trigger and writes the grams itself (the swap gives the table the
layer's triggers), and the demo loader switches the trigger off for its COPY. Rows
written without grams before this migration get theirs here.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SEARCHED = {
    "districts": ("name",), "precincts": ("name",), "units": ("name", "address"),
    "parks": ("name",), "rail_stations": ("name",), "bus_stations": ("name",),
    "construction_sites": ("name",), "key_station_areas": ("name",), "incidents": ("name",),
    "vehicles": ("name",),
}  # fmt: skip
# Latin letters fold to ASCII lower case, full-width ones too (layers.features.grams._fold).
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_FOLD_FROM = _UPPER + "".join(chr(ord(c) + 0xFEE0) for c in _UPPER + _LOWER)
_FOLD_TO = _LOWER * 3

# Two characters pack into one int4: (first & 0xFFFF) << 16 | (second & 0xFFFF), the
# start and end of a value standing as code point 0. A plpgsql loop over the characters
# is 2.5x faster than the same in one SQL statement (unnest, lag, array_agg).
TEXT_GRAMS = f"""
CREATE FUNCTION text_grams(value text) RETURNS int4[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    grams int4[];
    previous int4 := 0;
    code int4;
    letter text;
BEGIN
    FOREACH letter IN ARRAY string_to_array(translate(value, '{_FOLD_FROM}', '{_FOLD_TO}'),
                                            NULL) LOOP
        code := ascii(letter) & 65535;
        grams := grams || ((previous << 16) | code);
        previous := code;
    END LOOP;
    IF grams IS NULL THEN
        RETURN '{{}}';
    END IF;
    RETURN grams || (previous << 16);
END $$
"""


def _function(texts: tuple[str, ...]) -> str:
    return f"feature_grams_{'_'.join(texts)}"


def _create_function(texts: tuple[str, ...]) -> str:
    sets = "".join(f"    NEW.{t}_grams := text_grams(NEW.{t});\n" for t in texts)
    return (f"CREATE FUNCTION {_function(texts)}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{sets}    RETURN NEW;\nEND $$")  # fmt: skip


def upgrade() -> None:
    op.execute(TEXT_GRAMS)
    for texts in sorted(set(SEARCHED.values())):
        op.execute(_create_function(texts))
    for table, texts in SEARCHED.items():
        columns = ", ".join(c for t in texts for c in (t, f"{t}_grams"))
        op.execute(f"CREATE TRIGGER {table}_grams BEFORE INSERT OR UPDATE OF {columns} "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION {_function(texts)}()")  # fmt: skip
        for text in texts:
            op.execute(f"UPDATE {table} SET {text}_grams = text_grams({text}) "
                       f"WHERE ({text}_grams IS NULL) <> ({text} IS NULL)")  # fmt: skip


def downgrade() -> None:
    for table in SEARCHED:
        op.execute(f"DROP TRIGGER {table}_grams ON {table}")
    for texts in sorted(set(SEARCHED.values())):
        op.execute(f"DROP FUNCTION {_function(texts)}()")
    op.execute("DROP FUNCTION text_grams(text)")

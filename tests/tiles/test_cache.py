"""The tile cache: LRU by bytes, exact invalidation by area at every zoom, no stale stores."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable

from geo.tiling import lonlat_to_tile, tile_bounds_wgs84
from layers.accounts.scope import CITY, Scope, ScopeKind
from tiles.cache import GZIP_MIN_BYTES, EncodedTile, TileCache, TileKey

BEIJING = (116.4074, 39.9042)


def key(z: int, lon: float = BEIJING[0], lat: float = BEIJING[1], **kw: object) -> TileKey:
    x, y = lonlat_to_tile(lon, lat, z)
    values: dict[str, object] = {"layers": ("units",), "filter": "", "scope": CITY, **kw}
    return TileKey(z=z, x=x, y=y, **values)  # type: ignore[arg-type]


def tile(body: bytes) -> EncodedTile:
    return EncodedTile.encode(body, gzip_level=1)


def cache(max_bytes: int = 1 << 20) -> TileCache:
    return TileCache(max_bytes, extent=4096, buffer=64)


def fetch(c: TileCache, k: TileKey, render: Callable[[], EncodedTile]) -> EncodedTile:
    """Run ``get_or_render`` to the end with a render that returns at once."""

    async def rendered() -> EncodedTile:
        return render()

    return asyncio.run(c.get_or_render(k, rendered))


def test_encoded_tile_has_gzip_and_content_etag() -> None:
    a, b = tile(b"x" * 1000), tile(b"y" * 1000)
    assert gzip.decompress(a.gzipped) == a.body
    assert a.etag == tile(b"x" * 1000).etag != b.etag
    assert a.etag.startswith('"') and a.etag.endswith('"')
    assert tile(b"").gzipped == b""
    assert tile(b"x" * (GZIP_MIN_BYTES - 1)).gzipped == b""  # too small to shrink


def test_renders_once_then_serves_from_cache() -> None:
    c, calls = cache(), []

    def render() -> EncodedTile:
        calls.append(1)
        return tile(b"data")

    assert fetch(c, key(12), render) == fetch(c, key(12), render)
    assert len(calls) == 1


def test_scope_filter_and_layers_make_distinct_entries() -> None:
    c = cache()
    precinct = Scope(ScopeKind.PRECINCT, 7)
    for k in (key(12), key(12, scope=precinct), key(12, filter="risk_level > 2"),
              key(12, layers=("units", "incidents"))):  # fmt: skip
        fetch(c, k, lambda: tile(b"t"))
    assert len(c) == 4
    assert c.get(key(12, scope=Scope(ScopeKind.PRECINCT, 8))) is None


def test_least_recently_used_go_first_when_full() -> None:
    one = tile(bytes(range(256)) * 4)
    c = cache(max_bytes=3 * one.size)
    keys = [key(z) for z in (10, 11, 12)]
    for k in keys:
        fetch(c, k, lambda: one)
    c.get(keys[0])  # now the most recently used
    fetch(c, key(13), lambda: one)
    assert c.get(keys[1]) is None and c.get(keys[0]) is not None
    assert c.bytes <= c.max_bytes
    fetch(c, key(14), lambda: tile(b"z" * (4 * one.size)))  # bigger than the cache
    assert c.get(key(14)) is None


def test_change_drops_touching_tiles_at_every_zoom_and_keeps_the_rest() -> None:
    c = cache()
    near = [key(z) for z in range(0, 19)]
    far = [key(z, lon=121.47, lat=31.23) for z in range(8, 19)]  # Shanghai
    other_layer = key(14, layers=("parks",))
    for k in [*near, *far, other_layer]:
        fetch(c, k, lambda: tile(b"t"))
    lon, lat = BEIJING
    dropped = c.invalidate("units", (lon - 1e-6, lat - 1e-6, lon + 1e-6, lat + 1e-6))
    assert dropped == len(near)
    assert all(c.get(k) is None for k in near)
    assert all(c.get(k) is not None for k in far)
    assert c.get(other_layer) is not None


def test_change_in_the_buffer_of_a_tile_drops_it() -> None:
    c = cache()
    k = key(14)
    west, south, east, _ = tile_bounds_wgs84(14, k.x, k.y)
    fetch(c, k, lambda: tile(b"t"))
    beyond_buffer = east + (east - west) * 0.03
    assert c.invalidate("units", (beyond_buffer, south, beyond_buffer, south)) == 0
    in_buffer = east + (east - west) * 0.01
    assert c.invalidate("units", (in_buffer, south, in_buffer, south)) == 1


def test_render_overlapping_a_change_is_served_but_not_stored() -> None:
    c = cache()

    def render_during_write() -> EncodedTile:
        c.invalidate("units", (0.0, 0.0, 0.0, 0.0))  # a write commits while we render
        return tile(b"maybe stale")

    assert fetch(c, key(12), render_during_write).body == b"maybe stale"
    assert c.get(key(12)) is None
    c.clear()
    assert len(c) == 0 and c.bytes == 0

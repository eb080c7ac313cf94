"""Prometheus metrics of one app: requests by route template, pools, the tile cache.

Each app has a registry of its own (tests build many apps in one process). The pools'
and the tile cache's figures are read from ``app.state`` when scraped, so serving a
request costs two label lookups and an increment, nothing more.

The figures are those of one worker process: with ``--workers N`` a scrape of
``/metrics`` is answered by whichever worker takes the connection.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.datastructures import State

UNROUTED = "unrouted"  # refused before routing (body caps, bad text) or no such route
# Anything else a client writes as its method would be a label value of its choosing.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LABELS = ("method", "route", "status")


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _StateCollector(Collector):
    """The database pool, the tile pool and the tile cache, as they are at scrape time."""

    def __init__(self, state: State) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        """Yield the current figures of whatever the app has started."""
        engine = getattr(self._state, "engine", None)
        if engine is not None:
            pool = engine.pool
            yield _gauge("warroom_db_pool_size", "Connections the pool keeps", pool.size())
            yield _gauge("warroom_db_pool_checked_out", "Connections in use", pool.checkedout())
            yield _gauge("warroom_db_pool_idle", "Open connections waiting", pool.checkedin())
            yield _gauge("warroom_db_pool_overflow", "Connections open beyond the pool size",
                         max(0, pool.overflow()))  # fmt: skip
        tile_pool = getattr(self._state, "tile_pool", None)
        if tile_pool is not None:
            yield _gauge("warroom_tile_pool_size", "Tile statements at once", tile_pool.size)
            yield _gauge("warroom_tile_pool_in_use", "Tile statements running", tile_pool.in_use)
            yield _gauge("warroom_tile_pool_idle", "Open tile connections waiting", tile_pool.idle)
        cache = self._state.tile_cache
        yield CounterMetricFamily("warroom_tile_cache_hits", "Tiles served from the cache",
                                  value=cache.hits)  # fmt: skip
        yield CounterMetricFamily("warroom_tile_cache_misses", "Tiles that had to be rendered",
                                  value=cache.misses)  # fmt: skip
        yield _gauge("warroom_tile_cache_bytes", "Bytes of cached tiles", cache.bytes)
        yield _gauge("warroom_tile_cache_max_bytes", "The cache's size limit", cache.max_bytes)
        yield _gauge("warroom_tile_cache_entries", "Cached tiles", len(cache))


class Metrics:
    """The app's registry and the metrics its requests update."""

    def __init__(self, state: State) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "warroom_http_requests", "Requests answered, by route template and status class",
            _LABELS, registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "warroom_http_request_duration_seconds", "Time to answer a request",
            _LABELS, buckets=BUCKETS_S, registry=self.registry,
        )  # fmt: skip
        self.internal_errors = Counter(
            "warroom_http_internal_errors", "500 answers: unexpected errors, each logged",
            ("method", "route"), registry=self.registry,
        )  # fmt: skip
        # set by the live stream's hub (api/live/hub.py) as clients come and go
        self.stream_clients = Gauge(
            "warroom_stream_clients", "Clients connected to the live stream",
            registry=self.registry,
        )  # fmt: skip
        ProcessCollector(registry=self.registry)
        self.registry.register(_StateCollector(state))
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its time."""
        key = (method if method in METHODS else "other", route, f"{status // 100}xx")
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(*key), self.duration.labels(*key))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if status == 500:
            self.internal_errors.labels(key[0], route).inc()

    def exposition(self) -> bytes:
        """Return every metric in Prometheus's text format."""
        return generate_latest(self.registry)

"""The briefing map as a page: rings, their contents, a legend, a layer switch and tables.

Built with folium, with no tiles (the background is our own district and precinct
outlines, or the configured internal tile service) and no CDN: Leaflet is inlined
(``assets``) and folium's default links are dropped, so the page opens with no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import folium
from branca.element import Element, Figure
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from layers.features.query import FeatureRow
from layers.perimeters.briefing.assets import InlineAssets
from layers.perimeters.contents import RingContent
from layers.perimeters.rings import RingKind

RING_COLOURS = {RingKind.CORE: "#d7191c", RingKind.CONTROL: "#fd8d3c", RingKind.OUTER: "#2b83ba"}
_LAYER_COLOURS = ("#7b3294", "#1a9641", "#008837", "#a6611a", "#5e3c99", "#e66101", "#b2182b",
                  "#4d4d4d")  # fmt: skip
TABLE_ROWS = 10  # rows of units and hazards shown per ring
_FIRST_ROWS = (
    ("units", "单位", {"name": "名称", "category": "类别", "risk_level": "风险等级"}),
    ("hazards", "隐患", {"name": "标题", "state": "状态", "level": "等级"}),
)
_REMOTE = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//[^>]*>"
                     r"(?:\s*</script>)?", re.IGNORECASE)  # fmt: skip
# the tables follow the map (folium puts the map's own element after ours)
_PAGE_STYLE = """
body { display: flex; flex-direction: column; }
.folium-map { order: 1; flex: none; }
.briefing-legend { position: absolute; top: 10px; left: 54px; z-index: 1000; background: #fff;
  padding: 8px 12px; border: 1px solid #999; border-radius: 4px; font: 13px sans-serif; }
.briefing-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 6px; }
.briefing-tables { order: 2; font: 13px sans-serif; padding: 8px 16px; }
.briefing-tables table { border-collapse: collapse; margin: 6px 0 14px; }
.briefing-tables th, .briefing-tables td { border: 1px solid #bbb; padding: 3px 8px; }
.briefing-tables th { background: #eee; }
"""


@dataclass(frozen=True)
class BriefingRing:
    """A ring to draw: what it holds and its shape (WGS84)."""

    content: RingContent
    shape: BaseGeometry


@dataclass(frozen=True)
class Briefing:
    """Everything on a briefing map."""

    name: str
    window: str
    rings: Sequence[BriefingRing]  # innermost first
    boundaries: Sequence[FeatureRow]  # district and precinct outlines under the map
    tiles: str | None = None  # URL template of the internal tile service


def _collection(rows: Sequence[FeatureRow], **extra: str) -> dict[str, Any]:
    features = []
    for row in rows:
        properties = json.loads(row.properties)
        label = properties.get("name") or properties.get("title") or f"#{row.id}"
        features.append({"type": "Feature", "geometry": json.loads(row.geometry),
                         "properties": {"label": str(label), **extra}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _background(fmap: folium.Map, briefing: Briefing) -> None:
    if briefing.tiles:
        folium.TileLayer(briefing.tiles, attr="内部瓦片服务", name="底图").add_to(fmap)
    if not briefing.boundaries:
        return
    outlines = _collection(briefing.boundaries)
    style = {"color": "#888", "weight": 1, "fill": True, "fillColor": "#f4f1ea",
             "fillOpacity": 0.6}  # fmt: skip
    folium.GeoJson(outlines, name="辖区边界", style_function=lambda _: style,
                   tooltip=folium.GeoJsonTooltip(["label"], labels=False)).add_to(fmap)  # fmt: skip


def _rings(fmap: folium.Map, briefing: Briefing) -> None:
    for ring in reversed(briefing.rings):  # the outer first, so the inner lie on top
        colour = RING_COLOURS[ring.content.kind]
        style = {"color": colour, "weight": 3, "fillColor": colour, "fillOpacity": 0.12}
        area = f"{ring.content.title}（{ring.content.area_m2 / 1e6:.2f} km²）"
        feature = {"type": "Feature", "geometry": mapping(ring.shape), "properties": {}}
        folium.GeoJson(feature, name=ring.content.title, style_function=lambda _, s=style: s,
                       tooltip=area).add_to(fmap)  # fmt: skip


def _contents(fmap: folium.Map, briefing: Briefing) -> None:
    layers = list(briefing.rings[0].content.layers) if briefing.rings else []
    for i, layer_id in enumerate(layers):
        colour = _LAYER_COLOURS[i % len(_LAYER_COLOURS)]
        rows: list[dict[str, Any]] = []
        for ring in briefing.rings:
            content = ring.content.layers[layer_id]
            rows += _collection(content.features, ring=ring.content.title)["features"]
        if not rows:
            continue
        title = briefing.rings[0].content.layers[layer_id].title
        style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.7}
        marker = folium.CircleMarker(radius=4, color=colour, fill=True, fill_opacity=0.8)
        folium.GeoJson({"type": "FeatureCollection", "features": rows}, name=title,
                       style_function=lambda _, s=style: s, marker=marker,
                       tooltip=folium.GeoJsonTooltip(["label", "ring"], aliases=["名称", "圈层"]),
                       ).add_to(fmap)  # fmt: skip


def _legend(briefing: Briefing) -> str:
    items = "".join(f'<div><i style="background:{RING_COLOURS[r.content.kind]}"></i>'
                    f"{escape(r.content.title)}</div>" for r in briefing.rings)  # fmt: skip
    return (f'<div class="briefing-legend"><b>{escape(briefing.name)}</b>'
            f"<div>{escape(briefing.window)}</div>{items}</div>")  # fmt: skip


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                    for row in rows)  # fmt: skip
    return ("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
            f"{cells}</table>")  # fmt: skip


def _first_rows(briefing: Briefing, layer_id: str, keys: Sequence[str]) -> list[list[object]]:
    rows: list[list[object]] = []
    for ring in briefing.rings:
        content = ring.content.layers.get(layer_id)
        for feature in content.features[:TABLE_ROWS] if content else ():
            properties = json.loads(feature.properties)
            values = ("" if properties.get(k) is None else properties[k] for k in keys)
            rows.append([ring.content.title, feature.id, *values])
    return rows


def _tables(briefing: Briefing) -> str:
    rings = briefing.rings
    layers = list(rings[0].content.layers) if rings else []
    counts = [[rings[0].content.layers[layer].title,
               *(r.content.layers[layer].count for r in rings),
               sum(r.content.layers[layer].count for r in rings)] for layer in layers]  # fmt: skip
    parts = ["<h3>各圈层数量</h3>",
             _table(["图层", *(r.content.title for r in rings), "合计"], counts)]  # fmt: skip
    for layer_id, heading, columns in _FIRST_ROWS:
        if layer_id in layers:
            parts += [f"<h3>{heading}（每圈前 {TABLE_ROWS} 个）</h3>",
                      _table(["圈层", "编号", *columns.values()],
                             _first_rows(briefing, layer_id, list(columns)))]  # fmt: skip
    return f'<div class="briefing-tables">{"".join(parts)}</div>'


def briefing_page(briefing: Briefing, assets: InlineAssets) -> str:
    """Return the briefing map as one HTML page that loads nothing from elsewhere."""
    fmap = folium.Map(tiles=None, height="620px", control_scale=True, attribution_control=False)
    fmap.default_js, fmap.default_css = [], []  # folium's CDN links
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element('<meta charset="utf-8">'), name="charset")
    root.header.add_child(Element(f"<style>{assets.stylesheet}{_PAGE_STYLE}</style>"),
                          name="leaflet_css")  # fmt: skip
    root.header.add_child(Element(f"<script>{assets.script}</script>"), name="leaflet_js")
    root.header.add_child(Element(f"<title>{escape(briefing.name)} 安保简报图</title>"),
                          name="title")  # fmt: skip
    _background(fmap, briefing)
    _rings(fmap, briefing)
    _contents(fmap, briefing)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if briefing.rings:
        minx, miny, maxx, maxy = briefing.rings[-1].shape.bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    root.html.add_child(Element(_legend(briefing) + _tables(briefing)))
    return _REMOTE.sub("", root.render())

"""A plain HTML encoding of the OGC documents, for people browsing the service."""

from __future__ import annotations

import json
from html import escape
from string import Template
from typing import Any

from fastapi.responses import HTMLResponse

# No <style>: the Content-Security-Policy (api/headers.py) runs no inline style; the
# table's own attributes draw its grid.
PAGE = Template("""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>$title</title></head>
<body><h1>$title</h1>$links$body</body></html>""")


def _links(links: list[dict[str, str]]) -> str:
    items = "".join(
        f'<li><a href="{escape(k["href"])}">{escape(k.get("title") or k["rel"])}</a> '
        f"({escape(k['rel'])}, {escape(k['type'])})</li>"
        for k in links
    )
    return f"<ul>{items}</ul>"


def _table(features: list[dict[str, Any]]) -> str:
    if not features:
        return "<p>no features</p>"
    names = list(features[0]["properties"])
    head = "".join(f"<th>{escape(n)}</th>" for n in ["id", *names])
    cells = ([f["id"], *(f["properties"].get(n) for n in names)] for f in features)
    rows = "".join(f"<tr>{''.join(f'<td>{escape(str(v))}</td>' for v in c)}</tr>" for c in cells)
    return f'<table border="1" cellpadding="3"><tr>{head}</tr>{rows}</table>'


def render(document: dict[str, Any], title: str) -> HTMLResponse:
    """Return ``document`` (landing, collections, items, ...) as a simple HTML page."""
    body = ""
    if "features" in document:
        body = _table(document["features"])
    elif "collections" in document:
        body = "".join(
            f'<h2><a href="{escape(c["links"][0]["href"])}?f=html">{escape(c["id"])}</a> '
            f"{escape(c['title'])}</h2>"
            for c in document["collections"]
        )
    elif document.get("type") == "Feature":
        body = _table([document])
    else:
        shown = {k: v for k, v in document.items() if k != "links"}
        body = f"<pre>{escape(json.dumps(shown, ensure_ascii=False, indent=2))}</pre>"
    links = _links(document.get("links", []))
    return HTMLResponse(PAGE.substitute(title=escape(title), links=links, body=body))

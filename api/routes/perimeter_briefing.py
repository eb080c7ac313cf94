"""A perimeter's briefing map: an offline HTML page, and the same drawn as PNG or PDF."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Response

from api.deps import CurrentActor, SessionDep, SettingsDep
from api.routes.perimeters import PERIMETER_READERS, PerimeterId
from api.slots import QuerySlotsDep
from layers.perimeters.briefing.render import render_page
from layers.perimeters.briefing.service import briefing_html
from layers.settings import Settings

router = APIRouter(prefix="/api/perimeters/{perimeter_id}", tags=["perimeters"])
_MEDIA = {"png": "image/png", "pdf": "application/pdf"}


def _policy(settings: Settings) -> str:
    """Return the page's CSP: its own inline script and style, in a sandbox, nothing fetched."""
    tiles = settings.perimeters.briefing_tiles
    origin = urlsplit(tiles) if tiles else None
    images = f" {origin.scheme}://{origin.netloc}" if origin and origin.netloc else ""
    return ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            f"img-src data:{images}; sandbox allow-scripts")  # fmt: skip


def _page(perimeter_id: int, session: SessionDep, actor: CurrentActor, settings: Settings,
          slots: QuerySlotsDep) -> str:  # fmt: skip
    with slots.hold(actor.username):
        return briefing_html(session=session, perimeter_id=perimeter_id, actor=actor,
                             page_size=settings.perimeters.page_size, zone=settings.zone,
                             tiles=settings.perimeters.briefing_tiles)  # fmt: skip


@router.get(
    "/briefing.html",
    dependencies=[Depends(PERIMETER_READERS)],
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "An offline page"}},
)
def read_perimeter_briefing(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    slots: QuerySlotsDep,
) -> Response:  # fmt: skip
    """Return the briefing map: rings, contents, legend, layer switch and tables, offline."""
    html = _page(perimeter_id, session, actor, settings, slots)
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": _policy(settings)})  # fmt: skip


def _rendered(kind: str, html: str, settings: Settings) -> Response:
    own = settings.perimeters
    body = render_page(html, kind, chromium=own.chromium, timeout_s=own.render_timeout_s)
    return Response(body, media_type=_MEDIA[kind])


@router.get(
    "/briefing.png",
    dependencies=[Depends(PERIMETER_READERS)],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "As drawn"}},
)
def read_perimeter_briefing_png(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    slots: QuerySlotsDep,
) -> Response:  # fmt: skip
    """Return the briefing map drawn by headless Chromium as a PNG."""
    return _rendered("png", _page(perimeter_id, session, actor, settings, slots), settings)


@router.get(
    "/briefing.pdf",
    dependencies=[Depends(PERIMETER_READERS)],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "As printed"}},
)
def read_perimeter_briefing_pdf(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    slots: QuerySlotsDep,
) -> Response:  # fmt: skip
    """Return the briefing map printed by headless Chromium as a PDF."""
    return _rendered("pdf", _page(perimeter_id, session, actor, settings, slots), settings)

"""``warroom import`` and ``warroom export``: bulk data in and out of a layer."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine, select

from api.cli.checks import load_settings, ready_engine
from api.cli.keys import cli_key_ring
from api.cli.progress import run_with_progress
from importers.export import EXPORT_CRS, default_export_name, export_layer
from importers.mapping import load_map_file, parse_map
from importers.pipeline import run_import
from importers.report import ImportRequest, parse_mode
from importers.writers import WRITE_FORMATS
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.accounts.service import actor_for
from layers.crypto.keys import bind_key_ring
from layers.database import make_sessionmaker, transaction
from layers.errors import NotFound, WarroomError
from layers.features.registry import get_layer

console = Console()


def _actor(factory_user: str | None, engine: Engine) -> Actor:
    if factory_user is None:
        return Actor(user_id=None, username=f"cli:{getpass.getuser()}", role=Role.ADMIN)
    with transaction(make_sessionmaker(engine)) as session:
        user = session.scalar(select(User).where(User.username == factory_user))
        if user is None:
            raise NotFound(f"no user {factory_user!r}")
        return actor_for(user, client="cli")


def _mapping(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    path = Path(value)
    return load_map_file(path) if "=" not in value and path.is_file() else parse_map(value)


def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="File to import."),
    layer: str = typer.Option(..., "--layer", help="Target layer, e.g. units."),
    crs: str | None = typer.Option(None, help="Source CRS: gcj02, bd09, wgs84, EPSG:<code>."),
    encoding: str | None = typer.Option(None, help="Text encoding (default: detected)."),
    map_: str | None = typer.Option(None, "--map", help="name=列名,... or a mapping file."),
    id_field: str | None = typer.Option(None, help="Column holding the stable external id."),
    mode: str = typer.Option("insert", help="insert | upsert | replace."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
    strict: bool = typer.Option(False, "--strict", help="Load nothing if any row is bad."),
    table: str | None = typer.Option(
        None, help="Table/sheet; GTFS: stations|all|lines; CSV: lines."
    ),
    as_user: str | None = typer.Option(None, "--as-user", help="Act as this user (scope)."),
) -> None:
    """Import a GeoJSON/CSV/XLSX/zipped Shapefile/GeoPackage/KML(Z)/GTFS file into a layer."""
    settings = load_settings()
    engine = ready_engine(settings)
    try:
        request = ImportRequest(
            path=path, layer=layer, crs=crs, encoding=encoding, mapping=_mapping(map_),
            id_field=id_field, mode=parse_mode(mode), dry_run=dry_run, strict=strict, table=table,
            reject_dir=path.resolve().parent,
        )  # fmt: skip
        actor = _actor(as_user, engine)
        factory = bind_key_ring(make_sessionmaker(engine), cli_key_ring(settings))
        report = run_with_progress(
            lambda progress: run_import(
                session_factory=factory, request=request, actor=actor, progress=progress,
                max_vertices=settings.features.max_vertices,
                warn=lambda w: console.print(f"[yellow]warning:[/yellow] {w}"),
            ),
            console,
        )  # fmt: skip
    except WarroomError as exc:
        console.print(f"[red]import failed:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(report.summary(), soft_wrap=True, highlight=False)
    if report.status == "refused":
        raise typer.Exit(1)


def export(
    layer: str = typer.Option(..., "--layer", help="Layer to export."),
    fmt: str = typer.Option("geojson", "--format", help="|".join(WRITE_FORMATS)),
    crs: str = typer.Option("wgs84", help="|".join(EXPORT_CRS)),
    output: Path | None = typer.Option(None, "-o", "--output", help="File to write."),
    as_user: str | None = typer.Option(None, "--as-user", help="Export what this user sees."),
) -> None:
    """Export a layer as GeoJSON/CSV/XLSX/GeoPackage/zipped Shapefile/KML (personal masked)."""
    settings = load_settings()
    engine = ready_engine(settings)
    try:
        spec = get_layer(layer)
        if fmt not in WRITE_FORMATS:
            raise typer.BadParameter(f"--format must be one of {', '.join(WRITE_FORMATS)}")
        path = output or Path(default_export_name(spec, fmt, crs))
        actor = _actor(as_user, engine)
        factory = bind_key_ring(make_sessionmaker(engine), cli_key_ring(settings))
        with transaction(factory) as session:
            done = export_layer(session=session, spec=spec, actor=actor, fmt=fmt, crs=crs,
                                path=path)  # fmt: skip
    except WarroomError as exc:
        console.print(f"[red]export failed:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(f"exported {done.count} features of {layer} to {path} ({fmt}, {crs})",
                  soft_wrap=True, highlight=False)  # fmt: skip
    for note in done.notes:
        console.print(f"  note: {note}", soft_wrap=True, highlight=False)

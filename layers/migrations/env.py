"""Alembic environment: runs migrations on the connection or URL handed in by ``layers.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import layers.accounts.invitations
import layers.accounts.models
import layers.audit.models
import layers.features.hexagg
import layers.features.models
import layers.fieldwork.models
import layers.geofence.models
import layers.imports.models
import layers.ops.models
import layers.perimeters.models
import layers.records.attachments
import layers.records.catalog
import layers.tourism.models
import layers.tracks.models
import layers.training.models  # noqa: F401  (register tables on Base.metadata)
from layers.base import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Ignore tables we do not model, such as PostGIS's spatial_ref_sys."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    """Run migrations against the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

"""The layer registry, with counts and extents as the caller sees them."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.access import FEATURE_READERS
from api.deps import CurrentActor, SessionDep
from api.schemas.features import AttributePublic, LayerPublic, LayersPublic
from layers.features.registry import LayerSpec, all_layers
from layers.features.stats import layer_stats

router = APIRouter(prefix="/api/layers", tags=["layers"], dependencies=[Depends(FEATURE_READERS)])


def _public(spec: LayerSpec, session: SessionDep, actor: CurrentActor) -> LayerPublic:
    stats = layer_stats(session=session, spec=spec, actor=actor)
    return LayerPublic(
        id=spec.id,
        title=spec.title,
        geometry_type=spec.geometry_type,
        attributes=[
            AttributePublic(
                name=a.name,
                type=a.type.value,
                title=a.title,
                required=a.required,
                choices=list(a.choices) if a.choices else None,
            )
            for a in spec.attributes
        ],
        count=stats.count,
        count_is_estimate=stats.count_is_estimate,
        extent=list(stats.extent) if stats.extent else None,
    )


@router.get("")
def list_layers(session: SessionDep, actor: CurrentActor) -> LayersPublic:
    """Return every layer with its attributes, feature count and extent."""
    data = [_public(spec, session, actor) for spec in all_layers()]
    return LayersPublic(data=data, count=len(data))

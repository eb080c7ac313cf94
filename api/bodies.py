"""JSON bodies read after authentication and parsed away from the event loop.

FastAPI reads and validates a body parameter before it resolves any dependency, and
validates it on the event loop: a 2 MB GeoJSON holds every other request for ~100 ms.
``JSONBody(Model)`` is a dependency instead: declared after ``CurrentActor`` it reads
the body only once the caller is known, and parses a large one in a worker thread.
``openapi_extra=body.openapi`` and ``document_bodies`` keep such bodies in the OpenAPI
document.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

# Below this a body parses in well under a millisecond: not worth a thread hop.
THREAD_FROM_BYTES = 32 * 1024
# Parsing holds the GIL: more threads at it would only keep the event loop from its turn.
PARSERS = 2
ModelT = TypeVar("ModelT", bound=BaseModel)


def _parsers(request: Request) -> CapacityLimiter:
    """Return the app's limiter of body-parsing threads (made in its event loop)."""
    state = request.app.state
    limiter: CapacityLimiter | None = getattr(state, "body_parsers", None)
    if limiter is None:
        limiter = state.body_parsers = CapacityLimiter(PARSERS)
    return limiter


# Models read by a JSONBody (or named in hand-written responses), by name: their schemas
# go in the OpenAPI components.
_DOCUMENTED: dict[str, type[BaseModel]] = {}


def documented(model: type[BaseModel]) -> dict[str, str]:
    """Return a reference to ``model``'s schema, which ``document_bodies`` puts in components."""
    _DOCUMENTED[model.__name__] = model
    return {"$ref": f"#/components/schemas/{model.__name__}"}


class JSONBody(Generic[ModelT]):
    """Dependency: the request's JSON body as ``model`` (422 naming each problem).

    Give the route ``openapi_extra=body.openapi`` to document the body.
    """

    def __init__(self, model: type[ModelT]) -> None:
        self.model = model
        content = {"application/json": {"schema": documented(model)}}
        self.openapi = {"requestBody": {"required": True, "content": content}}

    async def __call__(self, request: Request) -> ModelT:
        """Return the body parsed as the model; a large one is parsed in a worker thread."""
        body = await request.body()
        try:
            if len(body) < THREAD_FROM_BYTES:
                return self.model.model_validate_json(body)
            return await to_thread.run_sync(self.model.model_validate_json, body,
                                            limiter=_parsers(request))  # fmt: skip
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])}
                      for error in exc.errors(include_url=False, include_input=False)]  # fmt: skip
            raise RequestValidationError(errors) from None


def document_bodies(app: FastAPI) -> None:
    """Put the models that ``JSONBody`` reads in the app's OpenAPI components."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        document = plain()
        if fresh:
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, model in _DOCUMENTED.items():
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for inner, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(inner, definition)
                schemas[name] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]

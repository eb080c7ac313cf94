"""Check and convert feature properties against the layer registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from layers.crypto.personal import looks_masked
from layers.errors import InvalidInput
from layers.features.registry import Attribute, AttrType, LayerSpec
from layers.values import storable_instant, text_problem


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _to_datetime(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-11-24T08:00:00+08:00")
    try:
        return storable_instant(parsed, "the time")
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError("must be a whole number")
    return int(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "是", "y"}:
        return True
    if text in {"false", "0", "no", "否", "n"}:
        return False
    raise ValueError("must be true or false")


def _to_string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = _checked(value).replace("，", ",").split(",")
        return [part.strip() for part in parts if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [_checked(item) for item in value]
    raise ValueError("must be a list of strings")


def _to_string(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ValueError("must be text")
    return _checked(str(value))


def _checked(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


_CONVERTERS = {
    AttrType.STRING: _to_string,
    AttrType.INTEGER: _to_int,
    AttrType.BOOLEAN: _to_bool,
    AttrType.DATE: _to_date,
    AttrType.DATETIME: _to_datetime,
    AttrType.STRING_LIST: _to_string_list,
}


def _convert(attribute: Attribute, value: Any) -> Any:
    converted: Any = _CONVERTERS[attribute.type](value)
    if attribute.choices is not None and converted not in attribute.choices:
        raise ValueError(f"must be one of {', '.join(attribute.choices)}")
    if attribute.minimum is not None and converted < attribute.minimum:
        raise ValueError(f"must be at least {attribute.minimum}")
    if attribute.maximum is not None and converted > attribute.maximum:
        raise ValueError(f"must be at most {attribute.maximum}")
    if attribute.max_length is not None and len(converted) > attribute.max_length:
        raise ValueError(f"must be at most {attribute.max_length} characters")
    if attribute.personal is not None and looks_masked(converted):
        raise ValueError("holds '*' as a masked value does: send the full value, or leave "
                         "the attribute out to keep the stored one")  # fmt: skip
    return converted


def coerce_properties(
    spec: LayerSpec, properties: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """Return ``properties`` converted to the layer's types, or raise listing every problem.

    With ``partial`` (a PATCH) missing required attributes are fine; ``None`` clears
    an optional attribute and is refused for a required one.
    """
    known = {attribute.name: attribute for attribute in spec.attributes}
    problems: list[str] = []
    converted: dict[str, Any] = {}
    for name, value in properties.items():
        attribute = known.get(name)
        if attribute is None:
            problems.append(f"{name}: unknown attribute of layer {spec.id!r}")
            continue
        if value is None or value == "":
            if attribute.required:
                problems.append(f"{name}: is required")
            else:
                converted[name] = None
            continue
        try:
            converted[name] = _convert(attribute, value)
        except (TypeError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    if not partial:
        problems += [
            f"{a.name}: is required"
            for a in spec.attributes
            if a.required and a.name not in properties
        ]
    if problems:
        raise InvalidInput("invalid properties: " + "; ".join(problems), problems=problems)
    return converted

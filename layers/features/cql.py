"""CQL2 filters (text and JSON) as SQLAlchemy conditions on a layer, via pygeofilter.

pygeofilter parses; this evaluator (modelled on pygeofilter's SQLAlchemy backend)
maps only registry attributes, ``id`` and ``geometry``, types every literal by its
attribute and validates geometry literals, so a bad filter is a precise
``InvalidInput`` and never a database error.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from shapely.geometry import box, shape
from sqlalchemy import ColumnElement, and_, func, not_, or_

from layers.errors import InvalidInput
from layers.features.filters import narrowed_by_grams
from layers.features.grams import like_grams
from layers.features.query import literal_geometry
from layers.features.registry import AttrType, LayerSpec
from layers.features.spatial import region_of
from layers.values import storable_instant, text_problem

GEOMETRY_NAMES = ("geometry", "geom")
MAX_DEPTH = 32  # nested groups and operands; a chain of one operator counts once
MAX_TERMS = 256  # conditions joined by AND/OR
# A cql2-json level is an object and its "args" list; a multipolygon literal adds 5 more.
_JSON_DEPTH = 2 * MAX_DEPTH + 8
_SPATIAL = {
    "INTERSECTS": func.ST_Intersects, "DISJOINT": func.ST_Disjoint,
    "CONTAINS": func.ST_Contains, "WITHIN": func.ST_Within, "TOUCHES": func.ST_Touches,
    "CROSSES": func.ST_Crosses, "OVERLAPS": func.ST_Overlaps, "EQUALS": func.ST_Equals,
}  # fmt: skip
_COMPARE = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}  # fmt: skip


def _typed(kind: AttrType | None, value: Any) -> Any:
    """Return ``value`` as the Python type of attribute kind ``kind`` or raise ValueError."""
    if kind is None or kind is AttrType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a number")
        return value
    if kind is AttrType.STRING:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text")
        if (problem := text_problem(value)) is not None:
            raise ValueError(problem)
        return value
    if kind is AttrType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if kind in (AttrType.DATE, AttrType.DATETIME):
        if not isinstance(value, datetime | date):
            value = datetime.fromisoformat(str(value))
        return storable_instant(value, "time") if isinstance(value, datetime) else value
    raise ValueError(f"list attributes can only be tested with IS NULL, not {value!r}")


def _operands(node: Any) -> list[Any]:
    """Return the operands of a chain of one operator (``a AND b AND c``), in order."""
    kind, operands, pending = type(node), [], [node]
    while pending:
        current = pending.pop()
        if type(current) is kind:
            pending += [current.rhs, current.lhs]
        else:
            operands.append(current)
    return operands


def _children(node: Any) -> list[Any]:
    if isinstance(node, ast.And | ast.Or):
        return _operands(node)
    subnodes = node.get_sub_nodes() if isinstance(node, ast.Node) else None
    if subnodes is None:
        return []
    return list(subnodes) if isinstance(subnodes, list) else [subnodes]


def _check_size(tree: Any) -> None:
    """Raise ``InvalidInput`` for a filter nested deeper or joining more terms than allowed.

    Parsing, evaluating and compiling a filter recurse once per level; the limits keep
    them far from Python's recursion limit (and the SQL small).
    """
    joined, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(f"invalid CQL2 filter: nested too deep (over {MAX_DEPTH} levels)")
        children = _children(node)
        if isinstance(node, ast.And | ast.Or):
            joined += len(children) - 1
            if joined >= MAX_TERMS:
                raise InvalidInput(f"invalid CQL2 filter: more than {MAX_TERMS} terms joined "
                                   "by AND/OR; use IN (...) for lists of values")  # fmt: skip
        pending += [(child, depth + 1) for child in children]


class _Evaluator(Evaluator):
    def __init__(self, spec: LayerSpec) -> None:
        self.spec = spec

    def evaluate(self, node: Any, adopt_result: bool = True) -> Any:
        """Return the SQL of ``node``; a chain of ANDs (ORs) becomes one flat AND (OR)."""
        if isinstance(node, ast.And | ast.Or):
            operands = [self.evaluate(operand, False) for operand in _operands(node)]
            return and_(*operands) if isinstance(node, ast.And) else or_(*operands)
        return super().evaluate(node, adopt_result)

    def _kind(self, node: Any) -> AttrType | None:
        if isinstance(node, ast.Attribute) and node.name not in ("id", *GEOMETRY_NAMES):
            return self.spec.attribute(node.name).type
        return None

    def _values(self, node: Any, *raw: Any) -> list[Any]:
        kind = self._kind(node)
        try:
            return [_typed(kind, v) for v in raw]
        except ValueError as exc:
            name = getattr(node, "name", "expression")
            raise InvalidInput(f"invalid CQL2 filter: {name}: {exc}") from None

    @handle(ast.Not)
    def not_(self, node: Any, sub: Any) -> Any:
        return not_(sub)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: Any, lhs: Any, rhs: Any) -> Any:
        (value,) = self._values(node.lhs, rhs)
        return _COMPARE[node.op.value](lhs, value)

    @handle(ast.Between)
    def between(self, node: Any, lhs: Any, low: Any, high: Any) -> Any:
        low, high = self._values(node.lhs, low, high)
        clause = lhs.between(low, high)
        return not_(clause) if node.not_ else clause

    @handle(ast.Like)
    def like(self, node: Any, lhs: Any) -> Any:
        if self._kind(node.lhs) is not AttrType.STRING or not isinstance(node.pattern, str):
            raise InvalidInput("invalid CQL2 filter: LIKE needs a text attribute and pattern")
        self._values(node.lhs, node.pattern)  # text PostgreSQL can store
        if _ends_in_escape(node.pattern):
            raise InvalidInput("invalid CQL2 filter: a LIKE pattern cannot end in the escape "
                               "character \\; write \\\\ for a backslash")  # fmt: skip
        clause = lhs.like(node.pattern, escape="\\")
        if node.not_:
            return not_(clause)
        grams = like_grams(node.pattern)
        return narrowed_by_grams(self.spec.model, node.lhs.name, clause, grams) if grams else clause

    @handle(ast.In)
    def in_(self, node: Any, lhs: Any, *options: Any) -> Any:
        clause = lhs.in_(self._values(node.lhs, *options))
        return not_(clause) if node.not_ else clause

    @handle(ast.IsNull)
    def null(self, node: Any, lhs: Any) -> Any:
        return lhs.is_not(None) if node.not_ else lhs.is_(None)

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: Any, lhs: Any, rhs: Any) -> Any:
        return _SPATIAL[node.op.name](lhs, rhs)

    @handle(ast.Attribute)
    def attribute(self, node: Any) -> Any:
        model = self.spec.model
        if node.name in GEOMETRY_NAMES:
            return model.geom  # type: ignore[attr-defined]
        if node.name == "id":
            return model.id
        known = ["id", "geometry", *(a.name for a in self.spec.attributes if a.personal is None)]
        if node.name not in known:
            raise InvalidInput(f"invalid CQL2 filter: unknown property {node.name!r}; "
                               f"queryables are: {', '.join(known)} (a personal attribute "
                               "is matched exactly by its own parameter, ?name=value)")  # fmt: skip
        return getattr(model, node.name)

    @handle(ast.Function)
    def function(self, node: Any, *arguments: Any) -> Any:
        if node.name.lower() == "bbox" and len(arguments) in (4, 6):
            return _envelope(arguments)
        raise InvalidInput(f"invalid CQL2 filter: unsupported function {node.name!r}")

    @handle(*values.LITERALS)
    def literal(self, node: Any) -> Any:
        return node

    @handle(values.Geometry)
    def geometry(self, node: Any) -> Any:
        return _geometry(node.__geo_interface__)

    @handle(values.Envelope)
    def envelope(self, node: Any) -> Any:
        # pygeofilter's cql2-json parser fills Envelope(x1, x2, y1, y2) from a
        # [minx, miny, maxx, maxy] bbox positionally, so the fields are in bbox order.
        return _envelope((node.x1, node.x2, node.y1, node.y2))


def _ends_in_escape(pattern: str) -> bool:
    """Return whether ``pattern`` ends in an unescaped ``\\`` (PostgreSQL refuses it)."""
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    return trailing % 2 == 1


def _geometry(geojson: dict[str, Any]) -> ColumnElement[Any]:
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInput(f"invalid CQL2 filter: malformed geometry: {exc}") from None
    return literal_geometry(region_of(geom, max_vertices=10_000).area)


def _envelope(args: tuple[Any, ...]) -> ColumnElement[Any]:
    numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
    if len(numbers) != len(args) or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput("invalid CQL2 filter: BBOX needs 4 finite numbers")
    minx, miny, maxx, maxy = (numbers[0], numbers[1], numbers[-2], numbers[-1])
    if minx > maxx or miny > maxy:
        raise InvalidInput("invalid CQL2 filter: BBOX minimum exceeds maximum")
    return literal_geometry(box(minx, miny, maxx, maxy))


def _json_document(text: str) -> Any:
    """Return a cql2-json filter decoded, refusing one nested deeper than a filter can be."""
    too_deep = InvalidInput(f"invalid CQL2 filter: nested too deep (over {MAX_DEPTH} levels)")
    try:
        document = json.loads(text)
    except RecursionError:
        raise too_deep from None
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > _JSON_DEPTH:
            raise too_deep
        if isinstance(value, dict | list):
            items = value.values() if isinstance(value, dict) else value
            pending += [(item, depth + 1) for item in items]
    return document


def parse_cql2(text: str, lang: str = "cql2-text") -> Any:
    """Return the pygeofilter AST of a CQL2 filter or raise ``InvalidInput`` with the reason."""
    try:
        if lang == "cql2-json":
            return parse_cql2_json(_json_document(text))
        if lang == "cql2-text":
            return parse_cql2_text(text)
    except (LarkError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"invalid CQL2 filter ({lang}): {reason}") from None
    raise InvalidInput(f"unknown filter-lang {lang!r}; use cql2-text or cql2-json")


def cql2_clause(spec: LayerSpec, text: str, lang: str = "cql2-text") -> ColumnElement[bool]:
    """Return the SQL condition of a CQL2 filter over the attributes of ``spec``."""
    tree = parse_cql2(text, lang)
    _check_size(tree)
    try:
        clause: ColumnElement[bool] = _Evaluator(spec).evaluate(tree)
    except NotImplementedError as exc:
        raise InvalidInput(f"invalid CQL2 filter: unsupported expression ({exc})") from None
    if not isinstance(clause, ColumnElement):
        raise InvalidInput("invalid CQL2 filter: it must be a condition, not a value")
    return clause

// Tourism on any map (issue #18.7), shared by the /tourism dashboard and the wall's tourism
// overlay (wall/tourism.js): the colours of the occupancy levels, style expressions that
// colour parks by level and draw flows with their direction, flows bent into arcs, an
// alert's text, and the readers of the tourism API.

import { api } from "./api.js";
import { zh } from "./strings.js";

const t = zh.tourism;

/** A park's level (the level its occupancy ratio reached) and its colour. */
export const LEVEL_COLOURS = { normal: "#43a047", yellow: "#fdd835", orange: "#fb8c00",
                               red: "#e53935", stop: "#8e24aa" };
/** Occupancy moves without alerts too: read it anew this often. */
export const REFRESH_MS = 60000;
const FLOW_COLOUR = [79, 195, 247];
const BEND = 0.2;  // an arc's bulge, as a share of its length
const ARC_STEPS = 16;

/** Return a colour expression of the level that `level` (an expression) reads; `fallback`
 *  for a park without one. */
export const colourByLevel = (level, fallback) => ["match", ["coalesce", level, ""],
  ...Object.entries(LEVEL_COLOURS).flat(), fallback];

/** Return the paint of a line layer of flows: wider with the volume, faint at the origin and
 *  bright at the park (the direction); its GeoJSON source needs `lineMetrics: true`. */
export function flowPaint(scale = 1) {
  const [r, g, b] = FLOW_COLOUR;
  return {
    "line-width": ["interpolate", ["linear"], ["sqrt", ["get", "volume"]], 0, scale, 100, 8 * scale],
    "line-gradient": ["interpolate", ["linear"], ["line-progress"],
                      0, `rgba(${r},${g},${b},0.1)`, 1, `rgba(${r},${g},${b},0.95)`],
  };
}

// A quadratic curve from `a` to `b` bulging to the right of the way travelled, so the flows
// of two places towards each other are two arcs, not one line (lon shrunk by the latitude).
function arc([x0, y0], [x1, y1]) {
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  const [dx, dy] = [(x1 - x0) * k, y1 - y0];
  const [cx, cy] = [(x0 + x1) / 2 + (dy * BEND) / k, (y0 + y1) / 2 - dx * BEND];
  return Array.from({ length: ARC_STEPS + 1 }, (_, i) => {
    const s = i / ARC_STEPS;
    const [p, q, r] = [(1 - s) ** 2, 2 * s * (1 - s), s ** 2];
    return [p * x0 + q * cx + r * x1, p * y0 + q * cy + r * y1];
  });
}

/** Return the flows (GeoJSON lines from origin to park) bent into arcs. */
export function asArcs(flows) {
  return { type: "FeatureCollection", features: flows.features.map(flow => {
    const line = flow.geometry.coordinates;
    return { ...flow, geometry: { type: "LineString", coordinates: arc(line[0], line[line.length - 1]) } };
  }) };
}

/** Return the text of an alert (a park crossed into a level). */
export const alertText = alert => t.alert({ ...alert, basis: t.basis[alert.basis],
                                            level: t.levels[alert.level] });

/** Every park one may see, now: visitors against capacity, level, ratio. */
export const readOccupancy = () => api("/api/tourism/occupancy");
/** The flows of the last hours, as GeoJSON lines from origin to park. */
export const readFlows = () => api("/api/tourism/flows");
/** The parks' outlines and names, as GeoJSON. */
export const readParkShapes = () => api("/api/layers/parks/features?limit=10000&properties=name");

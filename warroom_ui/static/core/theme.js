// core/theme.js — the dark theme's font and colours, shared by the map, base map and panels.

/** The page's font family (@font-face from npm @fontsource-variable/noto-sans-sc). */
export const FONT = "Noto Sans SC Variable";

/** The dark theme's colours. */
export const THEME = { background: "#0b1220", panel: "#141c2f", text: "#e5e9f0",
                       muted: "#8a93a6", line: "#263250" };

/** The colour of each business layer (others take COLOURS in the registry's order). */
export const LAYER_COLOURS = { units: "#4fc3f7", rail_stations: "#e57373", bus_stations: "#81c784",
                               construction_sites: "#ba68c8", key_station_areas: "#fff176",
                               incidents: "#ffb74d", vehicles: "#4db6ac" };

/** Colours for layers without one of their own, in the registry's order. */
export const COLOURS = ["#4fc3f7", "#ffb74d", "#e57373", "#81c784", "#ba68c8", "#fff176",
                        "#4db6ac", "#f06292", "#a1887f", "#90a4ae"];

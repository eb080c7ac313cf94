// core/theme.js — the dark theme's font and colours, shared by the map, base map and panels.

/** The page's font family (@font-face from npm @fontsource-variable/noto-sans-sc). */
export const FONT = "Noto Sans SC Variable";

/** The dark theme's colours. */
export const THEME = { background: "#0b1220", panel: "#141c2f", text: "#e5e9f0",
                       muted: "#8a93a6", line: "#263250" };

/** One colour per business layer, in the registry's order. */
export const COLOURS = ["#4fc3f7", "#ffb74d", "#e57373", "#81c784", "#ba68c8", "#fff176",
                        "#4db6ac", "#f06292", "#a1887f", "#90a4ae"];

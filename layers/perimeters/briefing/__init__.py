"""The briefing map of a perimeter: a self-contained folium page, and its PNG and PDF."""

"""Pure spatial logic for the war-room map: no database, no web.

Everything works on WGS84 longitude/latitude (in that order) unless a name
says otherwise, and every quantity carries its unit in its name
(``distance_m``, ``area_m2``). Import from the modules:

- :mod:`geo.crs` -- WGS84 / GCJ-02 / BD-09 conversions
- :mod:`geo.measure` -- geodesic distance, length, area and metric buffers
- :mod:`geo.densify` -- vertices along geodesics, so planar tests give geodesic answers
- :mod:`geo.validate` -- checks and repairs for user geometries
- :mod:`geo.hexes` -- H3 cells as 64-bit integers
- :mod:`geo.tiling` -- Web-Mercator tile maths
"""

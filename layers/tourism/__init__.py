"""Tourism monitoring (旅游监测): parks' points and relations, visitor counts and occupancy,
capacity alerts, flows, tour vehicles, activities and topic maps.

``models`` (tables), ``points`` and ``relations`` (a park's points and related features),
``counts`` (the one door for counter batches), ``occupancy`` and ``alerts`` (levels
with hysteresis), ``forecast`` (the next hour from the recent rate), ``flows``,
``vehicles``, ``topics`` (activities, topic maps), ``demo`` (the demo city's share).
"""

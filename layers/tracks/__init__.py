"""Vehicle tracks from GPS feeds: positions kept by day, the vehicles' last positions, lines.

``models`` (the day-partitioned table), ``partitions`` (made on ingest, pruned by age),
``batch`` (a batch of positions and its checks), ``service`` (the one door for a batch),
``moves`` (a vehicle feature follows its newest position), ``lines`` (a track as lines),
``arrays`` (many values as one SQL parameter).
"""

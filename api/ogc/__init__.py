"""OGC API – Features (Part 1 core, Part 3 filtering with CQL2) over the feature layers."""

"""The ``warroom`` command line."""

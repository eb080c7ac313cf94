"""The demo city: a deterministic synthetic Beijing (``generate``) and its bulk load (``load``)."""

"""Business records on map features: one framework, a module per record kind.

Every record is a row of ``records`` (kind, topic, state, title, a place and the
jurisdiction of that place, kind-specific ``details``), linked to the features it
concerns through ``record_links`` and moved through its kind's workflow by
``record_transitions``. Kinds register themselves in ``layers.records.kinds``; they
import this framework only, never each other.
"""

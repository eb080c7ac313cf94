"""Topic modules (专题): the bureau's subsystems, configured over the record framework.

A topic is data — its sections, the record kinds and forms it uses, the layers it
watches — not code of its own; the API and the pages read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from layers.records.kinds import TOPICS


@dataclass(frozen=True)
class Section:
    """A part of a topic: its title, the layers it watches and the kinds it works with."""

    id: str
    title: str
    layers: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    """One topic module: its kinds, its form kinds and its sections."""

    id: str
    title: str
    kinds: tuple[str, ...]
    form_kinds: tuple[str, ...]
    sections: tuple[Section, ...] = ()


_UNIT_WORK = ("task", "hazard", "inspection", "self_check", "assessment", "notice")
_CASE_WORK = ("case", "clue", "task", "notice")


def _case_topic(topic_id: str) -> Topic:
    return Topic(topic_id, TOPICS[topic_id], _CASE_WORK, ("inspection",))


TOPIC_LIST: tuple[Topic, ...] = (
    Topic(
        "internal_security",
        TOPICS["internal_security"],
        (
            *_UNIT_WORK,
            "activity",
            "construction_start",
            "clue",
            "staff_registration",
            "police_support",
            "approval",
        ),
        ("inspection", "self_check", "assessment"),
        (
            Section("units", "单位管理", ("units",), _UNIT_WORK),
            Section("activities", "大型活动", ("units", "parks"), ("activity", "police_support")),
            Section("construction", "动工信息", ("construction_sites",), ("construction_start",)),
            Section("staff", "人员报备", ("units",), ("staff_registration",)),
            Section("clues", "线索核查", ("units", "incidents"), ("clue", "task")),
        ),
    ),
    *(_case_topic(t) for t in ("environment", "food_drug", "tobacco", "intellectual_property")),
    Topic(
        "public_transport",
        TOPICS["public_transport"],
        (*_UNIT_WORK, "construction_start", "staff_registration", "police_support"),
        ("inspection", "self_check"),
        (
            Section("rail", "轨道交通", ("rail_stations",), _UNIT_WORK),
            Section("ground", "地面公交", ("bus_stations",), _UNIT_WORK),
            Section("taxi", "出租租赁", ("vehicles",), ("task", "inspection", "notice")),
            Section(
                "rail_construction",
                "轨建工地",
                ("construction_sites",),
                ("construction_start", "hazard", "inspection"),
            ),
            Section("key_station_areas", "重点站区", ("key_station_areas",), _UNIT_WORK),
            Section("support", "警务支援", ("rail_stations", "bus_stations"), ("police_support",)),
        ),
    ),
    Topic(
        "tourism",
        TOPICS["tourism"],
        ("task", "hazard", "activity", "notice", "police_support"),
        ("inspection",),
        (Section("parks", "公园景区", ("parks",), ("task", "hazard", "activity")),),
    ),
)

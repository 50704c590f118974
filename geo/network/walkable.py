"""Who may walk where: the walkability rules of OpenStreetMap ways, as one table.

:data:`WALK_RULES` is read top to bottom; the **first** rule whose condition holds decides
whether a way carrying a ``highway`` tag is part of the walking network. The OSM loader
(:mod:`geo.network.osm`) applies it to every way, records the deciding rule per edge
(``walk_rule``) and sums the kilometres each rule adds or removes; the README's table is
rendered from it by :func:`rules_markdown` (``tests/geo/network/test_walkable.py`` keeps
the two equal). The ``osmnx`` column says what OSMnx's ``network_type="walk"`` filter does
with the same ways, so that a comparison with OSMnx can explain every difference by rule.

Pedestrian areas (``highway=pedestrian|footway`` + ``area=yes``, squares 广场) are walked
across: their outline ring becomes edges, plus one straight edge between every two entry
nodes (outline nodes shared with other walkable ways, and ends of walkable ways inside the
area) whose straight line stays inside the area — straight-line links between entry nodes,
not a full visibility graph (no detours around holes through interior vertices: a path
blocked by a hole goes along the outline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Tags = Mapping[str, str]

#: ``sidewalk*`` values meaning "this road has a pavement one can walk on".
SIDEWALK_YES = frozenset({"both", "left", "right", "yes"})
#: ``foot`` values that allow walking (``permissive``: the owner tolerates it).
FOOT_YES = frozenset({"yes", "designated", "permissive"})
#: ``foot`` values that make a cycleway a shared path (narrower than :data:`FOOT_YES`).
FOOT_SHARED = frozenset({"yes", "designated"})
TRUNKS = frozenset({"trunk", "trunk_link"})
#: Highway values that are never walked: motorways, roads not (yet / any more) built,
#: platforms, race tracks, guided busways, service areas (as OSMnx's walk filter).
NEVER = frozenset({"motorway", "motorway_link", "construction", "proposed", "planned",
                   "abandoned", "razed", "raceway", "bus_guideway", "platform", "rest_area",
                   "services", "no"})
PEDESTRIAN_AREAS = frozenset({"pedestrian", "footway"})
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def _sidewalk(tags: Tags) -> bool:
    if tags.get("sidewalk") in SIDEWALK_YES:
        return True
    return any(tags.get(k) == "yes" for k in _SIDEWALK_KEYS[1:])


def _separate(tags: Tags) -> bool:
    return any(tags.get(k) == "separate" for k in _SIDEWALK_KEYS)


def _no_sidewalk(tags: Tags) -> bool:
    return tags.get("sidewalk") in ("no", "none") and not _sidewalk(tags)


def _area(tags: Tags) -> bool:
    return tags.get("area") == "yes"


@dataclass(frozen=True)
class WalkRule:
    """One row of the walkability table.

    ``highway`` lists the highway values the rule is about (empty = any); ``condition``
    says in words which other tags it needs and ``test`` checks them (given that the
    highway value matched); ``walkable`` is the outcome, ``None`` meaning "the setting
    ``walk_trunk_by_default`` decides". ``osmnx`` is OSMnx's walk filter's outcome for the
    same ways (``None``: the same as ours).
    """

    code: str
    highway: frozenset[str]
    condition: str
    test: Callable[[Tags], bool]
    walkable: bool | None
    osmnx: bool | None
    note: str

    def applies(self, tags: Tags) -> bool:
        """Whether this rule's highway values and condition hold for ``tags``."""
        return (not self.highway or tags.get("highway", "") in self.highway) and self.test(tags)


WALK_RULES: tuple[WalkRule, ...] = (
    WalkRule("never", NEVER, "any", lambda t: True, False, None,
             "motorways, construction, proposed/abandoned roads, platforms, race tracks"),
    WalkRule("foot_no", frozenset(), "foot=no", lambda t: t.get("foot") == "no", False, None,
             "walking forbidden"),
    WalkRule("access_private", frozenset(), "access=private or service=private, foot not "
             "yes|designated|permissive",
             lambda t: (t.get("access") == "private" or t.get("service") == "private")
             and t.get("foot") not in FOOT_YES, False, None, "private roads of compounds, "
             "campuses and works"),
    WalkRule("access_no", frozenset(), "access=no, foot not yes|designated|permissive",
             lambda t: t.get("access") == "no" and t.get("foot") not in FOOT_YES, False, True,
             "closed to everyone (OSMnx keeps these)"),
    WalkRule("private_foot", frozenset(), "access=private or service=private, with "
             "foot=yes|designated|permissive",
             lambda t: t.get("access") == "private" or t.get("service") == "private",
             True, False, "the foot tag overrides access for walkers (OSMnx drops these)"),
    WalkRule("sidewalk_separate", frozenset(), "sidewalk*=separate", _separate, False, None,
             "the pavements are mapped as their own footways; walking the carriageway too "
             "would count them twice"),
    WalkRule("pedestrian_area", PEDESTRIAN_AREAS, "area=yes", _area, True, False,
             "squares: outline ring plus straight links between entry nodes that see each "
             "other"),
    WalkRule("other_area", frozenset(), "area=yes", _area, False, None,
             "traffic areas and parking surfaces are not ways"),
    WalkRule("trunk_sidewalk", TRUNKS, "sidewalk=both|left|right|yes or "
             "sidewalk:both|left|right=yes", _sidewalk, True, None,
             "arterials (主干道/快速路) with pavements"),
    WalkRule("trunk_foot", TRUNKS, "foot=yes|designated|permissive",
             lambda t: t.get("foot") in FOOT_YES, True, None, "walking explicitly allowed"),
    WalkRule("trunk_no_sidewalk", TRUNKS, "sidewalk=no|none", _no_sidewalk, False, True,
             "mapped without pavements"),
    WalkRule("trunk_untagged", TRUNKS, "no sidewalk or foot tag", lambda t: True, None, True,
             "setting walk_trunk_by_default (SERVICECIRCLE_WALK_TRUNK_BY_DEFAULT): off = not "
             "walkable, on = walkable as in OSMnx"),
    WalkRule("cycleway_foot", frozenset({"cycleway"}), "foot=yes|designated",
             lambda t: t.get("foot") in FOOT_SHARED, True, False, "shared foot and cycle path"),
    WalkRule("cycleway", frozenset({"cycleway"}), "otherwise", lambda t: True, False, None,
             "cycle track only"),
    WalkRule("default", frozenset(), "otherwise", lambda t: True, True, None,
             "every other highway: roads with their pavements, footways, paths, steps, "
             "pedestrian streets, service roads"),
)
RULES_BY_CODE: dict[str, WalkRule] = {r.code: r for r in WALK_RULES}


def walk_rule(tags: Tags) -> WalkRule:
    """The first rule of :data:`WALK_RULES` that applies to a way with a ``highway`` tag."""
    for rule in WALK_RULES:
        if rule.applies(tags):
            return rule
    raise AssertionError("the last rule applies to every way")  # pragma: no cover


def is_walkable(tags: Tags, *, trunk_by_default: bool = False) -> bool:
    """Whether a way with these tags belongs to the walking network (:data:`WALK_RULES`).

    ``trunk_by_default``: trunks without sidewalk or foot tags are walkable (OSMnx's
    behaviour) instead of not.
    """
    if not tags.get("highway"):
        return False
    rule = walk_rule(tags)
    return trunk_by_default if rule.walkable is None else rule.walkable


def is_pedestrian_area(tags: Tags) -> bool:
    """Whether a closed way with these tags is a pedestrian area walked across."""
    return tags.get("highway") in PEDESTRIAN_AREAS and walk_rule(tags).code == "pedestrian_area"


def osmnx_walkable(rule: WalkRule, *, trunk_by_default: bool = False) -> bool:
    """What OSMnx's walk filter decides for the ways this rule decides."""
    ours = trunk_by_default if rule.walkable is None else rule.walkable
    return ours if rule.osmnx is None else rule.osmnx


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _yes_no(v: bool | None) -> str:
    return {True: "walkable", False: "excluded", None: "setting"}[v]


def rules_markdown() -> str:
    """The rule table as Markdown (the README shows this text verbatim)."""
    lines = ["| # | rule | highway | condition | ours | OSMnx walk | note |",
             "|---|---|---|---|---|---|---|"]
    for i, r in enumerate(WALK_RULES, 1):
        hw = ", ".join(sorted(r.highway)) if r.highway else "any"
        osmnx = "same" if r.osmnx is None else _yes_no(r.osmnx)
        lines.append(f"| {i} | `{r.code}` | {hw} | {_cell(r.condition)} | "
                     f"{_yes_no(r.walkable)} | {osmnx} | {_cell(r.note)} |")
    return "\n".join(lines)

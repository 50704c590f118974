"""The web map's JavaScript restates nothing of the vocabulary: no code, label, colour of a
term, threshold or city centre is written in ``layers/static/*.js`` — they come from
``/vocabulary``, ``/layers`` and the page's settings. The scripts share ``common.js``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.domain import (
    BROUGHT_INSIDE_COLOR,
    CASE_CATEGORIES,
    CASE_STATUSES,
    COURIER_CIRCLE_M,
    GB50180_METRES,
    LIFE_CIRCLE_MINUTES,
    MAX_WALK_MINUTES,
    PROPERTY_MANAGEMENT,
    PROPOSED_SITE_COLOR,
    SERVICE_TYPES,
    WALK_MINUTES,
    Term,
)
from geo.settings import DEFAULT_RIDE_SPEED_M_PER_MIN, DEFAULT_WALK_SPEED_M_PER_MIN, PROJECT_ROOT
from layers.catalog import default_registry

STATIC = PROJECT_ROOT / "layers" / "static"
SCRIPTS = sorted(STATIC.glob("*.js"))  # ours; vendored libraries live in static/vendor
MAP_SCRIPTS = ("map.js", "siting.js", "hotspots.js", "openat.js")
TERMS: list[Term] = [*SERVICE_TYPES.values(), *CASE_CATEGORIES.values(),
                     *CASE_STATUSES.values(), *PROPERTY_MANAGEMENT.values()]
THRESHOLDS = {*WALK_MINUTES, LIFE_CIRCLE_MINUTES, MAX_WALK_MINUTES, *GB50180_METRES.values(),
              COURIER_CIRCLE_M, DEFAULT_WALK_SPEED_M_PER_MIN, DEFAULT_RIDE_SPEED_M_PER_MIN}
_NUMBER = re.compile(r"(?<![\w#$.])(\d+(?:\.\d+)?(?:e\d+)?)(?![\w.])")


def _code(path: Path) -> str:
    """The script without its comments (strings and regular expressions are kept)."""
    text = re.sub(r"/\*.*?\*/", " ", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return re.sub(r"(?<![:'\"\\])//[^\n]*", " ", text)


def _words(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def test_the_map_scripts_are_all_checked() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"common.js", *MAP_SCRIPTS} <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_code_or_label_of_the_vocabulary(path: Path) -> None:
    text = path.read_text(encoding="utf-8")  # comments too: nothing to keep in step
    found = [w for t in TERMS for w in (t.code, t.zh, t.en) if _words(text, w)]
    assert found == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_colour_of_the_vocabulary_or_the_catalogue(path: Path) -> None:
    colours = {t.color for t in TERMS if t.color} | {PROPOSED_SITE_COLOR, BROUGHT_INSIDE_COLOR}
    for layer in default_registry():
        colours |= {layer.style.color} | {c.color for c in layer.style.classes}
    text = path.read_text(encoding="utf-8").lower()
    assert [c for c in colours if re.search(rf"{c.lower()}(?![0-9a-f])", text)] == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_threshold_literal(path: Path) -> None:
    numbers = [float(n) for n in _NUMBER.findall(_code(path))]
    assert sorted({n for n in numbers if n in THRESHOLDS}) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_city_centre(path: Path) -> None:
    """No literal coordinates in China (lat 18–54, lon 73–135) and no demo city."""
    numbers = [float(n) for n in _NUMBER.findall(_code(path)) if "." in n]
    assert [n for n in numbers if 18 <= n <= 54 or 73 <= n <= 135] == []
    text = path.read_text(encoding="utf-8").lower()
    assert not any(c in text for c in ("guixi", "wudaokou", "贵溪", "五道口"))


def test_helpers_are_defined_once_in_common_js() -> None:
    """Escaping, the API-key header, markers and number formats live in common.js only."""
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    for name in ("SC.esc =", "SC.headers =", "SC.glyphIcon =", "SC.fmt =", "SC.i18n =",
                 "SC.vocabulary ="):
        assert name in common
    for script in MAP_SCRIPTS:
        text = (STATIC / script).read_text(encoding="utf-8")
        assert "sessionStorage" not in text and "X-API-Key" not in text, script
        assert "function esc(" not in text and "Intl.NumberFormat" not in text, script
        assert "fetch(" not in text, script  # requests go through SC.request


def test_common_js_is_loaded_first() -> None:
    page = (PROJECT_ROOT / "layers" / "templates" / "map.html").read_text(encoding="utf-8")
    order = [page.index(f"/static/{s}") for s in ("common.js", *MAP_SCRIPTS)]
    assert order == sorted(order)

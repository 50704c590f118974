"""One colour meaning per map, in the catalogue: an area layer drawn in a single colour uses
a vocabulary term's colour (a service type's, a case category's) only when it draws that
term (e.g. a courier station type's reach), so that colour never means two things.
The map enforces the rest (tests/browser/test_map_views.py)."""

from __future__ import annotations

from geo.domain import CASE_CATEGORIES, SERVICE_TYPES
from layers.catalog import default_registry


def test_single_colour_layers_use_a_term_colour_only_for_that_term() -> None:
    terms = {t.color.lower(): t for t in (*SERVICE_TYPES.values(), *CASE_CATEGORIES.values())
             if t.color}
    wrong = []
    for layer in default_registry():
        st = layer.style
        if st.classes or st.kind == "circle" or layer.group == "basemap":
            continue
        term = terms.get(st.color.lower())
        if term is not None and term.zh not in layer.title_zh:
            wrong.append((layer.name, st.color, term.zh))
    assert wrong == []

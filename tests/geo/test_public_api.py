"""The curated ``from geo import …`` API: plain imports of the feature subpackages' names."""

from __future__ import annotations

import importlib
import inspect

import pytest

import geo

SUBPACKAGES = ("geo.cases", "geo.courier", "geo.coverage", "geo.crs", "geo.grids", "geo.io",
               "geo.network", "geo.siting", "geo.finder")


@pytest.mark.parametrize("name", geo.__all__)
def test_every_exported_name_is_an_attribute_defined_in_the_core(name: str) -> None:
    value = getattr(geo, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__.startswith("geo.")
        assert not value.__module__.startswith(("geo.store", "geo.demo"))


@pytest.mark.parametrize("module", SUBPACKAGES)
def test_every_subpackage_exports_what_it_lists(module: str) -> None:
    package = importlib.import_module(module)
    assert package.__all__ and all(hasattr(package, n) for n in package.__all__)


def test_top_level_names_come_from_the_subpackages_public_lists() -> None:
    listed = {n for m in SUBPACKAGES for n in importlib.import_module(m).__all__}
    base = {n for m in ("geo.domain", "geo.errors", "geo.settings")
            for n in vars(importlib.import_module(m))}
    assert set(geo.__all__) - base <= listed


def test_names_are_plain_attributes_not_resolved_lazily() -> None:
    assert "__getattr__" not in vars(geo)
    assert all(n in vars(geo) for n in geo.__all__)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        geo.no_such_thing  # noqa: B018

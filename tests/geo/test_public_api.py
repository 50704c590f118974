"""The curated ``from geo import …`` API resolves every advertised name."""

from __future__ import annotations

import importlib

import pytest

import geo


@pytest.mark.parametrize("name", geo.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(geo, name) is getattr(importlib.import_module(geo._EXPORTS[name]), name)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        geo.no_such_thing  # noqa: B018

"""The tile cache stays bounded whatever it holds, empty tiles included."""

from __future__ import annotations

from geo.store.cache import ENTRY_OVERHEAD
from geo.store.tiles import TileCache


def test_empty_tiles_count_against_the_byte_limit() -> None:
    cache = TileCache(max_bytes=100 * ENTRY_OVERHEAD)
    for i in range(10_000):
        cache.put(("compounds", 16, i, 0), b"")
    assert len(cache) == 100
    assert cache.size <= cache.max_bytes
    assert cache.get(("compounds", 16, 0, 0)) is None  # the oldest were evicted
    assert cache.get(("compounds", 16, 9_999, 0)) is not None


def test_entries_are_bounded_in_number() -> None:
    cache = TileCache(max_bytes=1 << 30, max_entries=50)
    for i in range(1_000):
        cache.put(i, b"x" * 10)
    assert len(cache) == 50


def test_replacing_a_tile_keeps_the_byte_count_exact() -> None:
    cache = TileCache(max_bytes=1 << 20)
    cache.put("k", b"a" * 100)
    cache.put("k", b"")
    assert cache.size == ENTRY_OVERHEAD
    cache.clear()
    assert (len(cache), cache.size) == (0, 0)


def test_a_tile_larger_than_the_cache_is_served_but_not_kept() -> None:
    cache = TileCache(max_bytes=1000)
    tile, etag = cache.put("big", b"x" * 5000)
    assert tile == b"x" * 5000 and etag.startswith('"')
    assert len(cache) == 0

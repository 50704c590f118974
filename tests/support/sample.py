"""A small, hand-checkable sample city for API, layer and browser tests, and a live server.

City ``testville`` covers lon 117.00–117.10, lat 28.20–28.30 (EPSG:4326): one street, two
communities (west/east), four grids (quadrants), six compounds, one service point of each
built-in type, 20 grid cases with personal descriptions, and a 4×4 street lattice.
City ``otherville`` (lon 118.0–118.1) has two parcel stations, for the city filter.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from geo.domain import CaseCategory, ServiceType

X0, Y0 = 117.0, 28.2
COMPOUND_RESIDENTS = [300, 800, 1500, 3000, 6000, 0]
N_CASES = 20


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def _exec(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params)


def load_sample(conn: Connection) -> dict[str, int]:
    """Insert both sample cities; return their ids (the caller commits)."""
    ids = {}
    for code, zh, en, x in [("testville", "测试市", "Testville", X0),
                            ("otherville", "另一市", "Otherville", 118.0)]:
        ids[code] = _exec(conn, "INSERT INTO city (code, name_zh, name_en, metric_epsg, bounds) "
                          "VALUES (:c, :zh, :en, 32650, ST_GeomFromText(:b, 4326)) RETURNING id",
                          c=code, zh=zh, en=en,
                          b=f"POLYGON(({x} {Y0},{x + .1} {Y0},{x + .1} {Y0 + .1},"
                            f"{x} {Y0 + .1},{x} {Y0}))").scalar_one()
    c = ids["testville"]
    street = _exec(conn, "INSERT INTO street (city_id, external_id, name, geom) VALUES "
                   "(:c, 'S1', '测试街道', ST_GeomFromText(:g, 4326)) RETURNING id",
                   c=c, g=_box(X0, Y0, X0 + .1, Y0 + .1)).scalar_one()
    comms = []
    for i, (name, x) in enumerate([("西社区", X0), ("东社区", X0 + .05)]):
        comms.append(_exec(conn, "INSERT INTO community (city_id, external_id, name, street_id, "
                           "geom) VALUES (:c, :e, :n, :s, ST_GeomFromText(:g, 4326)) RETURNING id",
                           c=c, e=f"C{i + 1}", n=name, s=street,
                           g=_box(x, Y0, x + .05, Y0 + .1)).scalar_one())
    for i in range(4):
        x, y = X0 + .05 * (i % 2), Y0 + .05 * (i // 2)
        _exec(conn, "INSERT INTO grid (city_id, external_id, name, community_id, geom) VALUES "
              "(:c, :e, :n, :cm, ST_GeomFromText(:g, 4326))", c=c, e=f"G{i + 1}",
              n=f"第{i + 1}网格", cm=comms[i % 2], g=_box(x, y, x + .05, y + .05))
    for i, residents in enumerate(COMPOUND_RESIDENTS):
        x, y = X0 + .01 + .015 * i, Y0 + .02
        _exec(conn, "INSERT INTO compound (city_id, external_id, name, community_id, households, "
              "residents, property_management, geom) VALUES (:c, :e, :n, :cm, :h, :r, :pm, "
              "ST_GeomFromText(:g, 4326))", c=c, e=f"K{i + 1}", n=f"幸福小区{i + 1}期",
              cm=comms[0 if x < X0 + .05 else 1], h=residents // 3, r=residents,
              pm="unmanaged" if i == 5 else "managed", g=_box(x, y, x + .01, y + .01))
    for i, t in enumerate(ServiceType):
        _exec(conn, "INSERT INTO service_point (city_id, external_id, type, name, address, geom) "
              "VALUES (:c, :e, :t, :n, :a, ST_SetSRID(ST_MakePoint(:x, :y), 4326))", c=c,
              e=f"P{i + 1}", t=str(t), n=f"测试{t.value}站点", a=f"测试路{i + 1}号",
              x=X0 + .005 + .01 * i, y=Y0 + .06)
    for i in range(2):
        _exec(conn, "INSERT INTO service_point (city_id, external_id, type, name, geom) VALUES "
              "(:c, :e, 'parcel_station', :n, ST_SetSRID(ST_MakePoint(:x, :y), 4326))",
              c=ids["otherville"], e=f"Q{i + 1}", n=f"另一快递驿站{i + 1}",
              x=118.02 + .01 * i, y=Y0 + .05)
    rng = np.random.default_rng(42)
    cats = list(CaseCategory)
    for i in range(N_CASES):
        closed = i % 4 != 0
        _exec(conn, "INSERT INTO grid_case (city_id, external_id, category, reported_at, "
              "closed_at, status, satisfaction, handling_unit, channel, description, geom) "
              "VALUES (:c, :e, :cat, '2026-03-01T08:00:00+08'::timestamptz + :i * interval '1 day', "
              "CASE WHEN :closed THEN '2026-03-02T08:00:00+08'::timestamptz + :i * interval '1 day' "
              "END, :st, :sat, '测试街道办', '12345', :d, ST_SetSRID(ST_MakePoint(:x, :y), 4326))",
              c=c, e=f"E{i + 1}", cat=str(cats[i % len(cats)]), i=i, closed=closed,
              st="closed" if closed else "handling", sat=5 if closed else None,
              d=f"住户张某{i}反映楼道堆物", x=X0 + .002 + float(rng.uniform(0, .096)),
              y=Y0 + .002 + float(rng.uniform(0, .096)))
    n = 4
    for j in range(n * n):
        _exec(conn, "INSERT INTO street_node (city_id, node_id, geom) VALUES "
              "(:c, :n, ST_SetSRID(ST_MakePoint(:x, :y), 4326))", c=c, n=j,
              x=X0 + .01 + .025 * (j % n), y=Y0 + .01 + .025 * (j // n))
    e = 0
    for j in range(n * n):
        for k in ([j + 1] if j % n < n - 1 else []) + ([j + n] if j + n < n * n else []):
            _exec(conn, "INSERT INTO street_edge (city_id, edge_id, u, v, length_m, highway, "
                  "name, geom) SELECT :c, :e, a.node_id, b.node_id, "
                  "ST_Length(ST_MakeLine(a.geom, b.geom)::geography), 'residential', :nm, "
                  "ST_MakeLine(a.geom, b.geom) FROM street_node a, street_node b "
                  "WHERE a.city_id = :c AND b.city_id = :c AND a.node_id = :u AND b.node_id = :v",
                  c=c, e=e, u=j, v=k, nm=f"测试路{e}")
            e += 1
    return ids


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ (Web Mercator) tile containing lon/lat (EPSG:4326) at zoom ``z``."""
    import math

    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return z, x, y


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

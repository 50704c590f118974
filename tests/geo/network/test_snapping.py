import numpy as np
import pytest

from geo.network.graph import StreetNetwork
from geo.network.snapping import snap_points
from tests.support.netkit import points


def test_point_snaps_mid_edge_not_to_a_node(line_net: StreetNetwork) -> None:
    s = snap_points(line_net, points([(130.0, 12.0)]), crs=32650)
    assert s["edge_id"].iloc[0] == 2
    assert s["offset_m"].iloc[0] == pytest.approx(30.0, abs=1e-6)
    assert s["snap_m"].iloc[0] == pytest.approx(12.0, abs=1e-6)
    x, y = s.geometry.iloc[0].x, s.geometry.iloc[0].y
    assert (x - 600_000, y - 3_130_000) == pytest.approx((130.0, 0.0), abs=1e-6)


def test_far_points_are_flagged_not_dropped(line_net: StreetNetwork) -> None:
    s = snap_points(line_net, points([(50.0, 5.0), (50.0, 400.0)], name=["near", "far"]),
                    max_snap_m=250)
    assert len(s) == 2
    assert s["snapped"].tolist() == [True, False]
    assert s["snap_m"].iloc[1] == pytest.approx(400.0, abs=1e-6)


def test_point_on_a_node_has_offset_at_edge_end(line_net: StreetNetwork) -> None:
    s = snap_points(line_net, points([(100.0, 0.0)]))
    assert s["snap_m"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert s["offset_m"].iloc[0] in (pytest.approx(0.0, abs=1e-6), pytest.approx(100.0, abs=1e-6))


def test_component_is_reported(line_net: StreetNetwork) -> None:
    s = snap_points(line_net, points([(10.0, 1.0), (550.0, 1.0)]))
    assert s["component"].iloc[0] != s["component"].iloc[1]
    assert np.all(s["component"] >= 0)

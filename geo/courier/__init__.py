"""Courier and parcel stations: reach, overlaps, grid aggregates and demand inputs.

:mod:`~geo.courier.reach` computes what each station reaches (with the pair aggregates of
:mod:`~geo.courier.aggregate`); :mod:`~geo.courier.demand` validates imported rider demand.
"""

from geo.courier.demand import validate_compound_demand, validate_demand_points
from geo.courier.reach import (
    DEFAULT_OVERLAP_SHARE,
    PRESETS,
    CourierReach,
    ReachPreset,
    preset,
    station_reach,
)

__all__ = ["DEFAULT_OVERLAP_SHARE", "PRESETS", "CourierReach", "ReachPreset", "preset",
           "station_reach", "validate_compound_demand", "validate_demand_points"]

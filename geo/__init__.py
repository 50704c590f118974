"""servicecircle's analysis core: GeoDataFrames and arrays in, results out.

The curated public API for notebooks and scripts::

    from geo import StreetNetwork, nearest_service, service_circles, analyze_coverage

The names are those each feature subpackage lists in its ``__all__`` (``geo.network``,
``geo.coverage``, ``geo.courier``, ``geo.cases``, ``geo.siting``, ``geo.grids``, ``geo.io``, ``geo.crs``
— the one list of each), plus the vocabulary, the public exceptions and the settings. The core reads no database: a city's data stored in PostGIS
is read by the loaders of ``geo.store`` (``geo.store.network.read_network``,
``geo.store.inputs``), which build these objects.
Distances are metres, times minutes, storage CRS EPSG:4326 (lon/lat); metric work is
done in the UTM zone of the data (:func:`utm_epsg`) and results say which.
"""

from geo import cases, courier, coverage, crs, finder, grids, io, network, siting
from geo.cases import *
from geo.courier import *
from geo.coverage import *
from geo.crs import *
from geo.domain import (
    CASE_CATEGORIES,
    LIFE_CIRCLE_MINUTES,
    REGRID_REASONS,
    SERVICE_TYPES,
    WALK_MINUTES,
    CaseCategory,
    CaseStatus,
    PopulationGroup,
    PropertyManagement,
    ServiceType,
    SitingModel,
)
from geo.errors import (
    CRSError,
    GeoError,
    InfeasibleError,
    InvalidInputError,
    NotFoundError,
    Problem,
)
from geo.finder import *
from geo.grids import *
from geo.io import *
from geo.network import *
from geo.settings import Settings
from geo.siting import *

__all__ = [
    "CASE_CATEGORIES", "LIFE_CIRCLE_MINUTES", "REGRID_REASONS", "SERVICE_TYPES", "WALK_MINUTES", "CRSError",
    "CaseCategory", "CaseStatus", "GeoError", "InfeasibleError", "InvalidInputError",
    "NotFoundError", "PopulationGroup", "Problem", "PropertyManagement", "ServiceType",
    "Settings", "SitingModel",
]
__all__ += cases.__all__
__all__ += courier.__all__
__all__ += coverage.__all__
__all__ += crs.__all__
__all__ += finder.__all__
__all__ += grids.__all__
__all__ += io.__all__
__all__ += network.__all__
__all__ += siting.__all__

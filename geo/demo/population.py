"""Residents of the generated compounds by age group (0–14, 15–59, 60+).

Rules (also in ``data/README.md``, "Generated data"): the 60+ group (``elderly``) is
generated with the compounds — more of them in old compounds (those without a property
company, 无物业, the old housing of the centre) — around the share of people of 60 and
over of the province or city in the seventh national census (2020); the residents under
60 are split into 0–14 and 15–59 by the census ratio of the same place, ±20 % per
compound; 15–59 is the rest, so the three groups are whole people adding up to the
residents.

Census shares (0–14, 15–59, 60+ of the resident population, 2020):

- Jiangxi 江西省 (Guixi): 21.96 %, 61.17 %, 16.87 % — 江西省第七次全国人口普查公报;
- Beijing 北京市 (Wudaokou): 11.84 %, 68.53 %, 19.63 % — 北京市第七次全国人口普查公报.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

#: Seventh national census (2020): shares of 0–14, 15–59 and 60+ of the residents.
CENSUS_2020: dict[str, tuple[float, float, float]] = {
    "jiangxi": (0.2196, 0.6117, 0.1687),
    "beijing": (0.1184, 0.6853, 0.1963),
}


def add_age_groups(compounds: gpd.GeoDataFrame, *, census: str,
                   rng: np.random.Generator) -> None:
    """Add ``age_0_14`` and ``age_15_59`` to ``compounds`` in place (whole people; with
    ``elderly``, the 60+ group, they add up to ``residents``) by the module's rules."""
    child, working, _ = CENSUS_2020[census]
    residents = compounds["residents"].to_numpy(dtype=np.int64)
    elderly = compounds["elderly"].to_numpy(dtype=np.int64)
    under_60 = residents - elderly
    ratio = np.clip(child / (child + working) * rng.uniform(0.8, 1.2, len(compounds)), 0, 1)
    age_0_14 = np.floor(under_60 * ratio + 0.5).astype(np.int64)
    compounds["age_0_14"] = age_0_14
    compounds["age_15_59"] = under_60 - age_0_14

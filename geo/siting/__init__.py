"""New-station siting: MCLP, LSCP and p-median on a demand × candidate cost matrix.

``SitingProblem.from_matrix(cost, weights, threshold=…).solve("mclp", p=5)`` returns a
frozen :class:`SitingResult` (see :mod:`geo.siting.problem` for the models);
:func:`plan_sites` runs a scenario on compounds, stations and the street network;
:class:`WhatIf` answers "what if we opened stations here" in milliseconds.
"""

from geo.siting.base import Model, SitingResult
from geo.siting.candidates import generate_candidates
from geo.siting.problem import SitingProblem
from geo.siting.scenario import SitingPlan, plan_sites
from geo.siting.whatif import WhatIf, WhatIfResult

__all__ = ["Model", "SitingPlan", "SitingProblem", "SitingResult", "WhatIf", "WhatIfResult",
           "generate_candidates", "plan_sites"]

"""New-station siting: MCLP, LSCP and p-median on a demand × candidate cost matrix.

``SitingProblem.from_matrix(cost, weights, threshold=…).solve("mclp", p=5)`` returns a
frozen :class:`SitingResult` (see :mod:`geo.siting.problem` for the models; the solvers
share :mod:`geo.siting.base` and :mod:`geo.siting.evaluate`); :func:`plan_sites` runs a
scenario on compounds, stations and the street network, counting and walking as the type's
coverage does (:func:`siting_demand`); :class:`WhatIf` answers "what if
we opened stations here" in milliseconds; :func:`site_circles` draws the walking circles
of proposed sites by the coverage definition; :func:`render_html` prints a one-page report.
"""

from geo.siting.base import Model, SitingInstance, SitingResult
from geo.siting.candidates import generate_candidates
from geo.siting.circles import site_circles
from geo.siting.problem import SitingProblem
from geo.siting.report import ReportData, render_html, render_pdf
from geo.siting.scenario import SitingDemand, SitingPlan, plan_sites, prepare, siting_demand
from geo.siting.whatif import WhatIf, WhatIfResult

__all__ = ["Model", "ReportData", "SitingDemand", "SitingInstance", "SitingPlan",
           "SitingProblem", "SitingResult", "WhatIf", "WhatIfResult", "generate_candidates",
           "plan_sites", "prepare", "render_html", "render_pdf", "site_circles",
           "siting_demand"]

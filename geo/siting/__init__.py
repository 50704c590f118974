"""New-station siting: MCLP, LSCP and p-median on a demand × candidate cost matrix.

``SitingProblem.from_matrix(cost, weights, threshold=…).solve("mclp", p=5)`` returns a
frozen :class:`SitingResult`; see :mod:`geo.siting.problem` for the models.
"""

from geo.siting.problem import Model, SitingProblem, SitingResult

__all__ = ["Model", "SitingProblem", "SitingResult"]

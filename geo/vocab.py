"""What people type, resolved to the vocabulary's codes — the one place that does it.

A service type or case category may be given as its code (``red_station``), its Chinese
label (``红色驿站``) or its English label (``Red station``), in any case, with surrounding
blanks and with ``_``, ``-`` or blanks between words (``RED-STATION`` and ``red station``
name the same type). Anything else is an :class:`~geo.errors.InvalidInputError` whose
problem names the field, suggests the closest spellings ("did you mean …") and lists the
allowed codes; the error's ``suggestions`` carry the suggested codes.

The command line, the HTTP API (every route taking a type or a category, the tile and
feature filters) and the imports all call these functions. Service types added at run
time live in the database: pass their :class:`~geo.domain.Term` objects as ``terms``
(:func:`geo.store.vocabulary.resolve_service_type` does). :func:`suggest` is the
"did you mean" of every other name (cities, layers, kinds).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from geo.domain import CASE_CATEGORIES, SERVICE_TYPES, Term
from geo.errors import InvalidInputError, Problem

__all__ = ["CODE_PATTERN", "is_code", "normalise", "resolve_categories", "resolve_category",
           "resolve_service_type", "resolve_term", "spellings", "suggest", "unknown_term"]

#: A well-formed code (what the database's lookup tables hold).
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
_CODE = re.compile(CODE_PATTERN)
_SEPARATORS = re.compile(r"[\s_\-]+")


def is_code(value: str) -> bool:
    """Whether ``value`` is written like a code (lower-case letters, digits, ``_``)."""
    return bool(_CODE.match(value)) and len(value) <= 64


def normalise(value: str) -> str:
    """The form names are compared in: NFKC (full-width → ASCII), case-folded, trimmed, runs
    of blanks, ``_`` and ``-`` as one blank."""
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    return _SEPARATORS.sub(" ", text).strip()


def suggest(value: str, choices: Iterable[str], *, n: int = 3, cutoff: float = 0.6
            ) -> list[str]:
    """Up to ``n`` of ``choices`` closest to ``value``, best first (compared in
    :func:`normalise`d form): those whose difflib ratio reaches ``cutoff`` and is within 0.1
    of the best one's; failing any, a choice containing ``value`` or contained in it
    (``compound`` → ``compounds``). A text much longer than every choice has none."""
    key = normalise(value)
    by_key: dict[str, str] = {}
    for c in choices:
        by_key.setdefault(normalise(c), c)
    if not key or len(key) > 2 * max(map(len, by_key), default=0) + 8:
        return []  # nothing close (and no quadratic comparison of a long string)
    scored = sorted(((difflib.SequenceMatcher(None, key, k).ratio(), k) for k in by_key),
                    key=lambda rk: -rk[0])
    best = scored[0][0] if scored else 0.0
    close = [k for r, k in scored if r >= cutoff and r >= best - 0.1][:n]
    if not close:
        close = [k for k in by_key if key in k or k in key][:n]
    return [by_key[k] for k in close]


def spellings(terms: Iterable[Term]) -> dict[str, str]:
    """Normalised code, Chinese and English label of each term → its code."""
    out: dict[str, str] = {}
    for t in terms:
        for s in (t.code, t.zh, t.en):
            out.setdefault(normalise(s), t.code)
    return out


def resolve_term(value: str, terms: Iterable[Term], *, what: str, field: str,
                 code: str = "unknown-term") -> str:
    """The code of the term ``value`` names (code, Chinese or English label).

    Raises :class:`InvalidInputError` (``code``, one problem on ``field``) with the closest
    spellings as "did you mean" (``suggestions`` on the error: their codes) and the
    allowed codes.
    """
    terms = tuple(terms)
    found = spellings(terms).get(normalise(value))
    if found is not None:
        return found
    raise unknown_term(value, terms, what=what, field=field, code=code)


def unknown_term(value: str, terms: Iterable[Term], *, what: str, field: str,
                 code: str = "unknown-term") -> InvalidInputError:
    """The error for a ``value`` no term is called (see :func:`resolve_term`)."""
    terms = tuple(terms)
    label = {t.code: t for t in terms}
    names = {s: t.code for t in terms for s in (t.code, t.zh, t.en)}
    codes = list(dict.fromkeys(names[s] for s in suggest(value, names)))
    reason = f"unknown {what} {value!r}; "
    if codes:
        reason += "did you mean " + " or ".join(f"{c} ({label[c].zh})" for c in codes) + "? "
    reason += f"allowed: {', '.join(sorted(label))} (codes, Chinese or English names)"
    return InvalidInputError(f"unknown {what}", [Problem(reason, field=field)], code=code,
                             suggestions=tuple(codes))


def resolve_service_type(value: str, terms: Iterable[Term] | None = None, *,
                         field: str = "service_type") -> str:
    """The code of service type ``value`` among ``terms`` (default: the built-in types of
    :data:`geo.domain.SERVICE_TYPES`); error code ``unknown-service-type``."""
    return resolve_term(value, SERVICE_TYPES.values() if terms is None else terms,
                        what="service type", field=field, code="unknown-service-type")


def resolve_category(value: str, *, field: str = "category") -> str:
    """The code of case category ``value``; error code ``unknown-category``."""
    return resolve_term(value, CASE_CATEGORIES.values(), what="case category", field=field,
                        code="unknown-category")


def resolve_categories(values: Iterable[str] | str | None, *, field: str = "categories"
                       ) -> list[str] | None:
    """Codes of the case categories ``values`` names (a comma-separated text — ``，`` and
    ``、`` too — or a list), in the order given without repeats; ``None`` or nothing given →
    ``None`` (all categories). Every unknown one is reported at once."""
    if values is None:
        return None
    if isinstance(values, str):
        values = re.split(r"[,，、]", values)
    items = [str(v).strip() for v in values if str(v).strip()]
    if not items:
        return None
    out: list[str] = []
    problems: list[Problem] = []
    suggestions: list[str] = []
    for v in items:
        try:
            out.append(resolve_category(v, field=field))
        except InvalidInputError as exc:
            problems += exc.errors
            suggestions += exc.suggestions
    if problems:
        raise InvalidInputError("unknown case categories", problems, code="unknown-category",
                                suggestions=tuple(dict.fromkeys(suggestions)))
    return list(dict.fromkeys(out))


"""One legend entry of a layer's style; shared by the registry, the styles and the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LegendClass:
    """One legend entry.

    ``value`` is the category matched exactly (``classify="categorical"``) or the lower
    bound, inclusive, of a numeric class (``classify="graduated"``; classes ascending).
    """

    value: str | float | int | None
    color: str
    label_zh: str
    label_en: str
    icon: str | None = None  # a short glyph drawn on point markers (e.g. "党")

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"value": self.value, "color": self.color, "label": self.label(lang),
                "label_zh": self.label_zh, "label_en": self.label_en, "icon": self.icon}


def ramp(lows: Sequence[float], colors: Sequence[str], *, unit: tuple[str, str],
         scale: float = 1, counts: bool = False) -> tuple[LegendClass, ...]:
    """Graduated classes from ascending lower bounds ``lows`` and their colours.

    Labelled ``< b`` (for a first bound of 0), ``a–b`` and ``≥ last``, each followed by
    ``unit`` (zh, en); numbers are shown times ``scale`` (100: shares as percent) with
    thousands separators; with ``counts`` (whole numbers) a class reads ``a–(b−1)``.
    """
    def num(v: float) -> str:
        return f"{v * scale:,g}"

    out = []
    for k, (low, color) in enumerate(zip(lows, colors, strict=True)):
        if k == len(lows) - 1:
            text = f"≥ {num(low)}"
        elif k == 0 and low == 0:
            text = f"< {num(lows[1])}"
        else:
            text = f"{num(low)}–{num(lows[k + 1] - 1 if counts else lows[k + 1])}"
        out.append(LegendClass(low, color, text + unit[0], text + unit[1]))
    return tuple(out)

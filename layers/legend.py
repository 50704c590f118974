"""One legend entry of a layer's style; shared by the registry, the styles and the catalogue."""

from __future__ import annotations

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

"""``GET /layers``: the layer catalogue; ``GET /search``: find features by name."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.deps import ConnDep, CurrentUser, RegistryDep
from api.errors import problems
from api.schemas import Layer, LayerCatalogue, SearchResults
from geo.store.features import existing_tables, search_features
from layers.registry import Layer as LayerDef
from layers.styles import GROUP_LABELS, WHOLE_COLUMNS, value_labels

router = APIRouter(tags=["layers"])

Lang = Annotated[Literal["zh", "en"], Query(description="Language of titles and legends.")]


def layer_json(request: Request, layer: LayerDef, lang: str, *, available: bool = True
               ) -> dict[str, Any]:
    """The catalogue entry of ``layer`` with absolute URLs."""
    base = str(request.base_url).rstrip("/")
    return {
        "name": layer.name,
        "title": layer.title(lang),
        "title_zh": layer.title_zh,
        "title_en": layer.title_en,
        "description": layer.description(lang),
        "group": layer.group,
        "geometry_type": layer.geometry_type,
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "public": layer.public,
        "access": "public" if layer.public else "analyst",
        "visible": layer.visible,
        "available": available,
        "properties": list(layer.source.columns),
        "personal_properties": list(layer.source.personal),
        "property_labels": layer.labels(lang),
        "value_labels": value_labels(layer.source.columns, lang),
        "whole_properties": [c for c in layer.source.columns if c in WHOLE_COLUMNS],
        "filters": {c: list(v) for c, v in layer.source.query_filters},
        "moments": layer.source.run_table is not None,  # tiles/items take ?at=<moment>
        "style": layer.style.as_dict(lang),
        "tiles": f"{base}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt",
        "tilejson": f"{base}/tiles/{layer.name}/tilejson.json",
        "items": f"{base}/collections/{layer.name}/items",
        "collection": f"{base}/collections/{layer.name}",
    }


@router.get("/layers", response_model=LayerCatalogue, responses=problems(422, 503))
def list_layers(request: Request, conn: ConnDep, registry: RegistryDep,
                lang: Lang = "zh") -> dict[str, Any]:
    """Every layer with zh/en titles, style and legend, access and URLs.

    ``available`` is false when the layer's source table is missing (database not upgraded).
    ``moments`` is true for layers whose tiles and items take ``at`` (with ``city``): the
    coverage run counting only the service points open at that moment.
    """
    present = existing_tables(conn, (layer.source.table for layer in registry))
    groups = {layer.group: GROUP_LABELS.get(layer.group, (layer.group, layer.group))
              for layer in registry}
    return {"lang": lang, "attribution": "© OpenStreetMap contributors",
            "groups": {g: (en if lang == "en" else zh) for g, (zh, en) in groups.items()},
            "layers": [layer_json(request, layer, lang,
                                  available=layer.source.table in present)
                       for layer in registry]}


@router.get("/layers/{name}", response_model=Layer, responses=problems(404, 422))
def get_layer(request: Request, registry: RegistryDep, name: str,
              lang: Lang = "zh") -> dict[str, Any]:
    """One layer's catalogue entry (404 problem if unknown)."""
    return layer_json(request, registry.get(name), lang)


@router.get("/search", response_model=SearchResults, responses=problems(401, 422, 503))
def search(conn: ConnDep, registry: RegistryDep, user: CurrentUser,
           q: Annotated[str, Query(min_length=1, max_length=100, description="Name or part")],
           limit: Annotated[int, Query(ge=1, le=100)] = 20,
           city: str | None = None) -> dict[str, Any]:
    """Features whose name contains ``q`` across the layers the caller may read."""
    present = existing_tables(conn, (lyr.source.table for lyr in registry))
    layers = [lyr for lyr in registry if (lyr.public or user.has_role("analyst"))
              and lyr.source.table in present]
    return {"q": q, "results": search_features(conn, layers, q, limit=limit, city=city)}

"""Headless QGIS (PyQGIS from Debian, run by the system Python): reads collections through
its OAPIF provider and a vector-tile layer with its style, then prints what it saw as JSON.

Usage: ``python3 qgis_probe.py BASE_URL CITY PNG COLLECTION...``. Not a test module: the
client-matrix test runs it in a subprocess (``QT_QPA_PLATFORM=offscreen``), since PyQGIS
lives in the system Python and not in the project's environment.
"""

from __future__ import annotations

import json
import math
import sys
import urllib.request

from qgis.core import (  # type: ignore[import-not-found]
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsMarkerSymbol,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize  # type: ignore[import-not-found]
from qgis.PyQt.QtGui import QColor  # type: ignore[import-not-found]

GEOMETRY = {"fill": QgsWkbTypes.PolygonGeometry, "line": QgsWkbTypes.LineGeometry,
            "circle": QgsWkbTypes.PointGeometry}


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def read_collection(base: str, name: str) -> dict:
    uri = f"url='{base}' typename='{name}' pagingEnabled='true' pageSize='97'"
    layer = QgsVectorLayer(uri, name, "OAPIF")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    ids = {f.id() for f in layer.getFeatures()}
    return {"valid": True, "count": layer.featureCount(), "read": len(ids)}


def symbol_of(st: dict, colour: str) -> object:
    c = QColor(colour)
    rgb = f"{c.red()},{c.green()},{c.blue()}"
    if st["kind"] == "fill":
        return QgsFillSymbol.createSimple({
            "color": f"{rgb},{round(255 * float(st['fill_opacity']))}",
            "outline_color": f"{rgb},255", "outline_width": str(0.26 * float(st["weight"]))})
    if st["kind"] == "line":
        return QgsLineSymbol.createSimple({"line_color": f"{rgb},255",
                                           "line_width": str(0.26 * float(st["weight"]))})
    return QgsMarkerSymbol.createSimple({"color": f"{rgb},255",
                                         "size": str(float(st["radius"]) / 2)})


def styles_of(layer_name: str, st: dict) -> list:
    """The layer's style as served by ``/layers``: one rule per legend class (graduated:
    ``value <= x < next value``; categorical: ``= value``), else one colour."""
    classes, prop = st.get("classes") or [], st.get("property")
    if not classes or not prop:
        rule = QgsVectorTileBasicRendererStyle(layer_name, layer_name, GEOMETRY[st["kind"]])
        rule.setSymbol(symbol_of(st, st["color"]))
        return [rule]
    rules = []
    for i, c in enumerate(classes):
        if st.get("classify") == "graduated":
            expr = f'"{prop}" >= {float(c["value"])}'
            if i + 1 < len(classes):
                expr += f' AND "{prop}" < {float(classes[i + 1]["value"])}'
        else:
            expr = f""""{prop}" = '{c["value"]}'"""
        rule = QgsVectorTileBasicRendererStyle(f"{layer_name} {c['label_en']}", layer_name,
                                               GEOMETRY[st["kind"]])
        rule.setFilterExpression(expr)
        rule.setSymbol(symbol_of(st, c["color"]))
        rules.append(rule)
    return rules


def tiles_of(bounds: list[float], z: int) -> list[tuple[int, int]]:
    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 1 << z
        x = int((lon + 180.0) / 360.0 * n)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
        return x, y
    x0, y1 = tile(bounds[0], bounds[1])
    x1, y0 = tile(bounds[2], bounds[3])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def vector_tiles(base: str, layer_name: str, city: str, png: str) -> dict:
    tj = get_json(f"{base}/tiles/{layer_name}/tilejson.json?city={city}")
    style = next(s for s in get_json(f"{base}/layers")["layers"] if s["name"] == layer_name)
    st = style["style"]
    z = tj["minzoom"]
    uri = (f"type=xyz&url={base}/tiles/{layer_name}/{{z}}/{{x}}/{{y}}.mvt?city%3D{city}"
           f"&zmin={tj['minzoom']}&zmax={min(tj['maxzoom'], 14)}")
    layer = QgsVectorTileLayer(uri, layer_name)
    if not layer.isValid():
        return {"valid": False}
    renderer = QgsVectorTileBasicRenderer()
    renderer.setStyles(styles_of(layer_name, st))
    layer.setRenderer(renderer)
    QgsProject.instance().addMapLayer(layer)
    # features: every tile of the city at the layer's first zoom, each read by QGIS (its
    # OGR provider with GDAL's MVT driver; QGIS 3.22 has no MVT decoder in Python)
    ids: set[int] = set()
    for x, y in tiles_of(tj["bounds"], z):
        url = f"{base}/tiles/{layer_name}/{z}/{x}/{y}.mvt?city={city}"
        with urllib.request.urlopen(url, timeout=60) as r:
            if r.status == 204:
                continue
        tile = QgsVectorLayer(f"MVT:/vsicurl/{url}|layername={layer_name}", "tile", "ogr")
        if not tile.isValid():
            raise RuntimeError(f"QGIS cannot read tile {z}/{x}/{y}")
        ids |= {int(f["mvt_id"]) if "mvt_id" in f.fields().names() else f.id()
                for f in tile.getFeatures()}
    # picture: the city as the style draws it
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    to_merc = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                     QgsCoordinateReferenceSystem("EPSG:3857"),
                                     QgsProject.instance())
    b = tj["bounds"]
    settings.setExtent(to_merc.transformBoundingBox(QgsRectangle(b[0], b[1], b[2], b[3])))
    settings.setOutputSize(QSize(800, 800))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(png)
    painted = sum(1 for i in range(0, 800, 4) for j in range(0, 800, 4)
                  if image.pixelColor(i, j) != QColor("white"))
    return {"valid": True, "zoom": z, "features": len(ids), "painted": painted}


def main() -> None:
    base, city, png, *collections = sys.argv[1:]
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    out = {"collections": {name: read_collection(base, name) for name in collections},
           "tiles": vector_tiles(base, "compounds", city, png)}
    print(json.dumps(out))
    app.exitQgis()


if __name__ == "__main__":
    main()

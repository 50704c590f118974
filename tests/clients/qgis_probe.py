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
    QgsFields,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsTileXYZ,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsVectorTileMVTDecoder,
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
    uri = f"url='{base}' typename='{name}' pagingEnabled='true' pageSize='1000'"
    layer = QgsVectorLayer(uri, name, "OAPIF")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    ids = {f.id() for f in layer.getFeatures()}
    return {"valid": True, "count": layer.featureCount(), "read": len(ids)}


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
    rule = QgsVectorTileBasicRendererStyle(layer_name, layer_name, GEOMETRY[st["kind"]])
    colour = QColor(st["color"])
    if st["kind"] == "fill":
        rule.setSymbolColor(colour)
        colour.setAlphaF(float(st["fill_opacity"]))
        rule.symbol().setColor(colour)
        rule.symbol().symbolLayer(0).setStrokeColor(QColor(st["color"]))
    else:
        rule.setSymbolColor(colour)
    renderer = QgsVectorTileBasicRenderer()
    renderer.setStyles([rule])
    layer.setRenderer(renderer)
    QgsProject.instance().addMapLayer(layer)
    # features: every tile of the city at the layer's first zoom, decoded by QGIS
    decoder = QgsVectorTileMVTDecoder(layer.tileMatrixSet()) if hasattr(
        layer, "tileMatrixSet") else QgsVectorTileMVTDecoder()
    ids: set[int] = set()
    for x, y in tiles_of(tj["bounds"], z):
        data = layer.getRawTile(QgsTileXYZ(x, y, z))
        if data.isEmpty():
            continue
        if not decoder.decode(QgsTileXYZ(x, y, z), data):
            continue
        fields = {name: QgsFields() for name in decoder.layers()}
        feats = decoder.layerFeatures(fields, QgsCoordinateTransform())
        ids |= {f.id() for f in feats.get(layer_name, [])}
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

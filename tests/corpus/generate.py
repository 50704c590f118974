"""A corpus of hostile import files: every kind × format, each with one class of defect.

Files are made on the fly into a folder (nothing large is committed)::

    python -m tests.corpus.generate corpus-files     # writes the files, lists them

Each :class:`Case` names its kind (as on the command line), its format, its defect class
and the options of the import (``--crs``). Every case must be refused with a specific
problem and change nothing. The features lie in the sample city ``testville`` of
:mod:`tests.support.sample` (lon 117.00–117.10, lat 28.20–28.30; street ``S1``,
community ``C1``). Defects by class:

========================  ==================================================================
crs-missing               GeoPackage, Shapefile, GeoParquet without a CRS
crs-unknown               a CRS that cannot be interpreted (in the file, or ``--crs``)
crs-wrong                 UTM metres labelled as WGS-84 degrees
swapped                   lat/lon instead of lon/lat
outside                   coordinates 5° east of the city
nan-inf                   a NaN or infinite coordinate in row 2
empty-geometry            an empty geometry in row 2
null-geometry             no geometry in row 2
invalid-geometry          a self-intersecting polygon (a line for point kinds) in row 2
huge-geometry             a polygon of ~1° × 1° (a line of 100,000 vertices for point kinds)
duplicates                row 2 repeats row 1's id
unknown-codes             an unknown parent, service type or case category in row 2
wrong-types               text where a number or date belongs, in row 2
missing-field             no id column
encoding-gbk              GBK text, no ``--encoding`` (GeoJSON, CSV, Shapefile)
truncated                 the first half of a valid file
random                    4 KB of random bytes
empty-file                0 bytes
no-rows                   a header or an empty collection only
zip-bomb                  a container unpacking to ~64 MB (zipped Shapefile, .xlsx,
                          GeoParquet)
path-traversal            archive members named ``../../…`` (zipped Shapefile, .xlsx)
many-columns              1,200 extra columns
bad-row-in-10000          10,000 valid rows but row 7,778 outside the city
========================  ==================================================================
"""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geo.io.files import SHP_SHORT, write_file

KINDS = ("streets", "communities", "grids", "compounds", "service-points", "cases",
         "candidates")
#: Format → file suffix (a Shapefile travels zipped).
FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "shapefile": ".zip", "csv": ".csv",
           "parquet": ".parquet", "xlsx": ".xlsx"}
ALL = tuple(FORMATS)
X0, Y0 = 117.0, 28.2
BAD_ROW = 7_778  # of 10,000, numbered from 1
SEED = 20261201
#: Uncompressed size of the bombs; imports of the corpus run with a 4 MiB upload limit,
#: so containers may unpack to 16 MiB.
BOMB_BYTES = 64 * 1024 * 1024
UPLOAD_LIMIT = 4 * 1024 * 1024

_POLYGON_KINDS = ("streets", "communities", "grids", "compounds")
_PARENT = {"communities": ("street", "S1"), "grids": ("community", "C1"),
           "compounds": ("community", "C1")}


@dataclass(frozen=True)
class Case:
    """One hostile file: ``make(folder)`` writes it and returns its path."""

    cls: str
    kind: str
    fmt: str
    make: Callable[[Path], Path]
    crs: str | None = None

    @property
    def id(self) -> str:
        return f"{self.cls}/{self.kind}.{self.fmt}"

    @property
    def filename(self) -> str:
        return f"{self.cls}-{self.kind}{FORMATS[self.fmt]}"


# --- valid frames ---------------------------------------------------------------------------

def base_frame(kind: str, n: int = 3) -> gpd.GeoDataFrame:
    """``n`` valid features of ``kind`` inside testville (EPSG:4326)."""
    i = np.arange(n)
    x = X0 + 0.005 + (i % 90) * 0.001
    y = Y0 + 0.005 + (i // 90) * 0.0008
    ids = [f"Z{k:05d}" for k in i]
    if kind in _POLYGON_KINDS:
        geoms = list(shapely.box(x, y, x + 0.0006, y + 0.0006))
    else:
        geoms = list(shapely.points(x + 0.0003, y + 0.0003))
    cols: dict[str, list[object]] = {"external_id": ids}
    if kind != "candidates":
        cols["name"] = [f"测试{kind}{k}" for k in i]
    if kind in _PARENT:
        col, parent = _PARENT[kind]
        cols[col] = [parent] * n
    if kind == "compounds":
        cols |= {"households": [100] * n, "residents": [300] * n}
    elif kind == "service-points":
        cols["type"] = ["red_station"] * n
    elif kind == "cases":
        cols |= {"category": ["sanitation"] * n, "reported_at": ["2026-03-01 08:00"] * n,
                 "status": ["reported"] * n}
    elif kind == "candidates":
        cols |= {"name": [f"候选{k}" for k in i], "cost": [1000.0] * n}
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=4326)


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    write_file(gdf, path)
    return path


def _write_no_crs(gdf: gpd.GeoDataFrame, path: Path, fmt: str) -> Path:
    """``gdf``'s coordinates in a file that declares no CRS."""
    bare = gdf.set_crs(None, allow_override=True)
    if fmt == "gpkg":
        pyogrio.write_dataframe(bare, path, driver="GPKG", layer="data")
    elif fmt == "parquet":
        bare.to_parquet(path)
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in _shapefile_parts(bare).items():
                zf.writestr(f"data{name}", data)
    return path


def _shapefile_parts(gdf: gpd.GeoDataFrame, encoding: str = "UTF-8") -> dict[str, bytes]:
    """The files of a Shapefile of ``gdf`` by suffix (no .prj when ``gdf`` has no CRS)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "data.shp"
        pyogrio.write_dataframe(gdf.rename(columns=SHP_SHORT), shp, driver="ESRI Shapefile",
                                encoding=encoding)
        return {p.suffix.lower(): p.read_bytes() for p in Path(tmp).iterdir()}


# --- mutations of valid frames ----------------------------------------------------------------

def _set_geom(gdf: gpd.GeoDataFrame, row: int, geom: object) -> gpd.GeoDataFrame:
    geoms = list(gdf.geometry.values)
    geoms[row] = geom
    return gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs))


def _translated(gdf: gpd.GeoDataFrame, dx: float, rows: slice | int | None = None
                ) -> gpd.GeoDataFrame:
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    sel = slice(None) if rows is None else rows
    geoms[sel] = shapely.transform(geoms[sel], lambda c: c + np.array([dx, 0.0]))
    return gdf.set_geometry(gpd.GeoSeries(list(geoms), crs=gdf.crs))


def _frame_case(cls: str, kind: str, fmt: str,
                mutate: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], n: int = 3,
                crs: str | None = None) -> Case:
    def make(folder: Path) -> Path:
        return _write(mutate(base_frame(kind, n)), folder / case.filename)

    case = Case(cls, kind, fmt, make, crs)
    return case


def _swapped(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = shapely.transform(np.asarray(gdf.geometry.values, dtype=object),
                              lambda c: c[:, ::-1])
    return gdf.set_geometry(gpd.GeoSeries(list(geoms), crs=4326))


def _metres_as_degrees(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(32650).set_crs(4326, allow_override=True)


def _nan_inf(kind: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    def mutate(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if kind in _POLYGON_KINDS:
            bad: object = Polygon([(X0 + .01, Y0 + .01), (np.inf, Y0 + .01),
                                   (X0 + .011, np.nan), (X0 + .01, Y0 + .01)])
        else:
            bad = Point(np.nan, np.inf)
        return _set_geom(gdf, 1, bad)
    return mutate


def _nan_inf_shapefile(kind: str, fmt: str) -> Case:
    """GDAL writes no NaN, so the first point of record 2 of the .shp is patched."""
    def make(folder: Path) -> Path:
        parts = _shapefile_parts(base_frame(kind))
        shp = bytearray(parts[".shp"])
        first_len = struct.unpack_from(">i", shp, 100 + 4)[0] * 2
        rec = 100 + 8 + first_len + 8  # content of record 2
        offset = rec + 4 if kind not in _POLYGON_KINDS else rec + 4 + 32 + 4 + 4 + 4
        struct.pack_into("<dd", shp, offset, float("nan"), float("inf"))
        parts[".shp"] = bytes(shp)
        path = folder / case.filename
        with zipfile.ZipFile(path, "w") as zf:
            for suffix, data in parts.items():
                zf.writestr(f"data{suffix}", data)
        return path

    case = Case("nan-inf", kind, fmt, make)
    return case


def _empty(kind: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    return lambda gdf: _set_geom(gdf, 1, Polygon() if kind in _POLYGON_KINDS else Point())


def _invalid(kind: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    if kind in _POLYGON_KINDS:  # a bow tie
        bad: object = Polygon([(X0 + .01, Y0 + .01), (X0 + .02, Y0 + .02),
                               (X0 + .02, Y0 + .01), (X0 + .01, Y0 + .02)])
    else:
        bad = LineString([(X0 + .01, Y0 + .01), (X0 + .02, Y0 + .02)])
    return lambda gdf: _set_geom(gdf, 1, bad)


def _huge(kind: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    if kind in _POLYGON_KINDS:
        bad: object = shapely.segmentize(box(X0 - .45, Y0 - .45, X0 + .55, Y0 + .55), 0.0005)
    else:
        t = np.linspace(0, 1, 100_000)
        bad = LineString(np.column_stack([X0 + .01 + .08 * t, Y0 + .05 + .001 * np.sin(t * 999)]))
    return lambda gdf: _set_geom(gdf, 1, bad)


def _duplicate(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out.loc[1, "external_id"] = out.loc[0, "external_id"]
    return out


def _unknown_code(kind: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    col, value = {"communities": ("street", "S404"), "grids": ("community", "C404"),
                  "compounds": ("community", "C404"), "service-points": ("type", "teleport"),
                  "cases": ("category", "alien_landing")}[kind]

    def mutate(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        out = gdf.copy()
        out[col] = out[col].astype(object)
        out.loc[1, col] = value
        return out
    return mutate


def _wrong_type(kind: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    col, good, bad = {"compounds": ("residents", "300", "many"),
                      "service-points": ("capacity", "10", "lots"),
                      "cases": ("reported_at", "2026-03-01 08:00", "last tuesday-ish"),
                      "candidates": ("cost", "1000", "cheap")}[kind]

    def mutate(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        out = gdf.copy()
        out[col] = [good] * len(out)
        out.loc[1, col] = bad
        return out
    return mutate


def _without_ids(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.drop(columns=["external_id"])


def _many_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    extra = pd.DataFrame({f"extra_{k:04d}": [k] * len(gdf) for k in range(1200)},
                         index=gdf.index)
    return gpd.GeoDataFrame(pd.concat([gdf, extra], axis=1), geometry="geometry", crs=4326)


def _one_bad_row(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _translated(gdf, 5.0, BAD_ROW - 1)


# --- whole-file defects ---------------------------------------------------------------------

def _bytes_case(cls: str, kind: str, fmt: str, data: Callable[[Path], bytes]) -> Case:
    def make(folder: Path) -> Path:
        path = folder / case.filename
        path.write_bytes(data(folder))
        return path

    case = Case(cls, kind, fmt, make)
    return case


def _valid_bytes(kind: str, fmt: str, folder: Path) -> bytes:
    path = folder / f"valid-{kind}{FORMATS[fmt]}"
    _write(base_frame(kind, 50), path)
    data = path.read_bytes()
    path.unlink()
    return data


def _crs_unknown(kind: str, fmt: str) -> Case:
    gdf = base_frame(kind)
    if fmt in ("csv", "xlsx"):
        return _frame_case("crs-unknown", kind, fmt, lambda g: g, crs="EPSG:999999")

    def make(folder: Path) -> Path:
        path = folder / case.filename
        _write(gdf, path)
        if fmt == "geojson":
            doc = json.loads(path.read_text())
            doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
            path.write_text(json.dumps(doc, ensure_ascii=False))
        elif fmt == "gpkg":
            with sqlite3.connect(path) as db:
                db.execute("UPDATE gpkg_spatial_ref_sys SET definition = 'GEOGCS[\"bogus\"', "
                           "organization = 'NONE', organization_coordsys_id = 999999 "
                           "WHERE srs_id = 4326")
        elif fmt == "parquet":
            table = pq.read_table(path)
            meta = json.loads(table.schema.metadata[b"geo"])
            meta["columns"][meta["primary_column"]]["crs"] = "GEOGCS[\"bogus\""
            pq.write_table(table.replace_schema_metadata(
                {**table.schema.metadata, b"geo": json.dumps(meta).encode()}), path)
        else:
            parts = _shapefile_parts(gdf)
            parts[".prj"] = b'GEOGCS["bogus",DATUM["nowhere"'
            with zipfile.ZipFile(path, "w") as zf:
                for suffix, data in parts.items():
                    zf.writestr(f"data{suffix}", data)
        return path

    case = Case("crs-unknown", kind, fmt, make)
    return case


def _crs_missing(kind: str, fmt: str) -> Case:
    def make(folder: Path) -> Path:
        return _write_no_crs(base_frame(kind), folder / case.filename, fmt)

    case = Case("crs-missing", kind, fmt, make)
    return case


def _gbk(kind: str, fmt: str) -> Case:
    def make(folder: Path) -> Path:
        path = folder / case.filename
        gdf = base_frame(kind)
        if fmt == "shapefile":
            parts = _shapefile_parts(gdf, encoding="GBK")
            parts.pop(".cpg", None)
            with zipfile.ZipFile(path, "w") as zf:
                for suffix, data in parts.items():
                    zf.writestr(f"data{suffix}", data)
        else:
            _write(gdf, path)
            path.write_bytes(path.read_text(encoding="utf-8-sig").encode("gbk"))
        return path

    case = Case("encoding-gbk", kind, fmt, make)
    return case


def _no_rows(kind: str, fmt: str) -> Case:
    def make(folder: Path) -> Path:
        path = folder / case.filename
        gdf = base_frame(kind)
        if fmt == "geojson":
            path.write_text('{"type": "FeatureCollection", "features": []}')
        elif fmt in ("csv", "xlsx"):
            _write(gdf, path)
            df = pd.read_csv(path) if fmt == "csv" else pd.read_excel(path)
            if fmt == "csv":
                df.iloc[:0].to_csv(path, index=False)
            else:
                df.iloc[:0].to_excel(path, index=False)
        elif fmt == "gpkg":
            _write(gdf, path)
            with sqlite3.connect(path) as db:
                layer = db.execute("SELECT table_name FROM gpkg_contents").fetchone()[0]
                db.execute(f'DELETE FROM "{layer}"')
        elif fmt == "parquet":
            gdf.iloc[:0].to_parquet(path)
        else:
            parts = _shapefile_parts(gdf.iloc[:0])
            with zipfile.ZipFile(path, "w") as zf:
                for suffix, data in parts.items():
                    zf.writestr(f"data{suffix}", data)
        return path

    case = Case("no-rows", kind, fmt, make)
    return case


def _bomb(kind: str, fmt: str) -> Case:
    def data(folder: Path) -> bytes:
        buf = io.BytesIO()
        if fmt == "parquet":
            table = pa.table({"external_id": pa.array(["x" * 1024] * (BOMB_BYTES // 1024))})
            pq.write_table(table, buf, compression="zstd", use_dictionary=False)
            return buf.getvalue()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            names = (("data.shp", "data.shx", "data.dbf") if fmt == "shapefile"
                     else ("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"))
            for name in names[:-1]:
                zf.writestr(name, b"<x/>")
            with zf.open(names[-1], "w", force_zip64=True) as member:
                block = b"\0" * (1 << 20)
                for _ in range(BOMB_BYTES >> 20):
                    member.write(block)
        return buf.getvalue()

    return _bytes_case("zip-bomb", kind, fmt, data)


def _traversal(kind: str, fmt: str) -> Case:
    def data(folder: Path) -> bytes:
        buf = io.BytesIO()
        if fmt == "shapefile":
            with zipfile.ZipFile(buf, "w") as zf:
                for suffix, part in _shapefile_parts(base_frame(kind)).items():
                    zf.writestr(f"../../evil{suffix}", part)
        else:
            valid = zipfile.ZipFile(io.BytesIO(_valid_bytes(kind, fmt, folder)))
            with zipfile.ZipFile(buf, "w") as zf:
                for info in valid.infolist():
                    zf.writestr(info, valid.read(info))
                zf.writestr("../../evil.txt", b"outside")
        return buf.getvalue()

    return _bytes_case("path-traversal", kind, fmt, data)


# --- the corpus -------------------------------------------------------------------------------

#: Class → (formats it applies to, kinds it applies to, case maker(kind, fmt)).
CLASSES: dict[str, tuple[tuple[str, ...], tuple[str, ...], Callable[[str, str], Case]]] = {
    "crs-missing": (("gpkg", "shapefile", "parquet"), KINDS, _crs_missing),
    "crs-unknown": (ALL, KINDS, _crs_unknown),
    "crs-wrong": (ALL, KINDS, lambda k, f: _frame_case("crs-wrong", k, f, _metres_as_degrees)),
    "swapped": (ALL, KINDS, lambda k, f: _frame_case("swapped", k, f, _swapped)),
    "outside": (ALL, KINDS, lambda k, f: _frame_case("outside", k, f,
                                                     lambda g: _translated(g, 5.0))),
    "nan-inf": (ALL, KINDS, lambda k, f: _nan_inf_shapefile(k, f) if f == "shapefile"
                else _frame_case("nan-inf", k, f, _nan_inf(k))),
    "empty-geometry": (ALL, KINDS, lambda k, f: _frame_case("empty-geometry", k, f, _empty(k))),
    "null-geometry": (ALL, KINDS, lambda k, f: _frame_case(
        "null-geometry", k, f, lambda g: _set_geom(g, 1, None))),
    "invalid-geometry": (ALL, KINDS, lambda k, f: _frame_case("invalid-geometry", k, f,
                                                              _invalid(k))),
    "huge-geometry": (ALL, KINDS, lambda k, f: _frame_case("huge-geometry", k, f, _huge(k))),
    "duplicates": (ALL, KINDS, lambda k, f: _frame_case("duplicates", k, f, _duplicate)),
    "unknown-codes": (ALL, ("communities", "grids", "compounds", "service-points", "cases"),
                      lambda k, f: _frame_case("unknown-codes", k, f, _unknown_code(k))),
    "wrong-types": (ALL, ("compounds", "service-points", "cases", "candidates"),
                    lambda k, f: _frame_case("wrong-types", k, f, _wrong_type(k))),
    "missing-field": (ALL, KINDS, lambda k, f: _frame_case("missing-field", k, f, _without_ids)),
    "encoding-gbk": (("geojson", "csv", "shapefile"), KINDS, _gbk),
    "truncated": (ALL, KINDS, lambda k, f: _bytes_case(
        "truncated", k, f, lambda d: (b := _valid_bytes(k, f, d))[: len(b) // 2])),
    "random": (ALL, KINDS, lambda k, f: _bytes_case(
        "random", k, f, lambda d: np.random.default_rng(SEED).bytes(4096))),
    "empty-file": (ALL, KINDS, lambda k, f: _bytes_case("empty-file", k, f, lambda d: b"")),
    "no-rows": (ALL, KINDS, _no_rows),
    "zip-bomb": (("shapefile", "xlsx", "parquet"), KINDS, _bomb),
    "path-traversal": (("shapefile", "xlsx"), KINDS, _traversal),
    "many-columns": (ALL, KINDS, lambda k, f: _frame_case("many-columns", k, f, _many_columns)),
    "bad-row-in-10000": (ALL, KINDS, lambda k, f: _frame_case(
        "bad-row-in-10000", k, f, _one_bad_row, n=10_000)),
}
#: Classes whose first problem names a row.
ROW_CLASSES = ("nan-inf", "empty-geometry", "null-geometry", "invalid-geometry",
               "huge-geometry", "duplicates", "unknown-codes", "wrong-types",
               "bad-row-in-10000", "outside", "swapped", "crs-wrong")


def corpus() -> list[Case]:
    """Every case: each class in each format it applies to, the kind rotating so that
    every kind meets every format."""
    cases = []
    for i, (_cls, (formats, kinds, make)) in enumerate(CLASSES.items()):
        for j, fmt in enumerate(formats):
            kind = kinds[(i + j * 3) % len(kinds)]
            cases.append(make(kind, fmt))
    return cases


def main(argv: list[str]) -> None:
    folder = Path(argv[0] if argv else "corpus")
    folder.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")  # NaN coordinates, no CRS, overlong cells: on purpose
    for case in corpus():
        path = case.make(folder)
        print(f"{case.id:<45} {path.stat().st_size:>10,} B  {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Reading and writing feature files: GeoJSON, GeoPackage, Shapefile (zipped or not), CSV
(lon/lat or WKT columns), GeoParquet and Excel.

Readers return the file's rows and geometries *as found*, with the CRS the file declares
(``None`` when it declares none, and always ``None`` for CSV/Excel, whose CRS is declared by
the caller); :func:`resolve_crs` then declares and converts them to EPSG:4326 (GCJ-02 and
BD-09 included). Validation is :mod:`geo.validate`'s job. A file that is not valid UTF-8 (and no ``encoding`` was given)
raises :class:`InvalidInputError` naming the encoding it looks like.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from geo.crs.chinese import to_wgs84
from geo.crs.utm import WGS84
from geo.errors import CRSError, InvalidInputError, Problem

#: File formats by extension.
FORMATS: dict[str, str] = {
    ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".shp": "shapefile",
    ".zip": "shapefile-zip", ".csv": "csv", ".txt": "csv", ".parquet": "parquet",
    ".geoparquet": "parquet", ".xlsx": "excel",
}
TABULAR = ("csv", "excel")
LON_ALIASES = ("lon", "lng", "longitude", "long", "x", "经度", "東經", "东经")
LAT_ALIASES = ("lat", "latitude", "y", "纬度", "緯度", "北纬")
WKT_ALIASES = ("geometry", "wkt", "geom", "the_geom", "几何")
#: Shapefile field names are limited to 10 characters: long names are written short.
SHP_SHORT: dict[str, str] = {
    "external_id": "ext_id", "property_management": "prop_mgmt", "floor_area_m2": "floor_m2",
    "opening_hours": "open_hours", "handling_unit": "hand_unit", "reported_at": "reported",
    "closed_at": "closed", "satisfaction": "satisfact", "description": "descr",
}
_ENCODINGS = (("gb18030", "GB18030/GBK (simplified Chinese)"),
              ("big5", "Big5 (traditional Chinese)"),
              ("shift_jis", "Shift-JIS (Japanese)"),
              ("cp1252", "Windows-1252 (Western European)"))


@dataclass(frozen=True)
class ReadResult:
    """Rows of one file: ``frame`` with geometries as found and ``crs`` as declared.

    ``crs`` is ``None`` when the file declares none (and for CSV/Excel); ``tabular`` is
    True for CSV/Excel, whose CRS the caller declares (WGS-84 by default).
    """

    frame: gpd.GeoDataFrame
    format: str
    crs: CRS | None
    tabular: bool


def file_format(path: Path) -> str:
    """Format name of ``path`` from its extension; :class:`InvalidInputError` if unknown."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"unknown file type {path.suffix or path.name!r}; "
            f"supported: {', '.join(sorted(FORMATS))}",
            [Problem("unknown file type", field="file")])
    return fmt


def guess_encoding(data: bytes) -> str | None:
    """Description of the legacy encoding ``data`` decodes in, or ``None`` if it is UTF-8."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    for enc, label in _ENCODINGS:
        try:
            data.decode(enc)
            return f"{label}; use --encoding {enc}"
        except UnicodeDecodeError:
            continue
    return "an unknown encoding; give it with --encoding"


def _check_utf8(data: bytes, what: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        looks = guess_encoding(data)
        raise InvalidInputError(
            f"{what} is not valid UTF-8 text", [Problem(
                f"byte {exc.start} (line {line}) is not UTF-8; the file looks like {looks}",
                field="encoding")]) from None


def _decoded(path: Path, encoding: str | None) -> bytes:
    """File bytes re-encoded as UTF-8 (from ``encoding``), checked to be valid UTF-8."""
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding).encode("utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidInputError(f"cannot decode {path.name} as {encoding}: {exc}",
                                    [Problem(str(exc), field="encoding")]) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    _check_utf8(data, path.name)
    return data


def _pick(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for a in aliases:
        if a in lower:
            return str(lower[a])
    return None


def table_to_frame(df: pd.DataFrame, *, what: str = "file") -> gpd.GeoDataFrame:
    """Geometries from lon/lat columns (aliases such as lng/lat, x/y, 经度/纬度) or WKT.

    Rows whose coordinates are missing or not numbers get an empty geometry (reported by
    validation); the lon/lat columns are dropped. CRS is left undeclared.
    """
    cols = [str(c) for c in df.columns]
    df = df.set_axis(cols, axis=1)
    lon, lat = _pick(cols, LON_ALIASES), _pick(cols, LAT_ALIASES)
    if lon and lat:
        x = pd.to_numeric(df[lon], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.empty(len(df), dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        empty = shapely.Point()
        geoms[~ok] = empty  # reported by validation as missing coordinates
        return gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=list(geoms), crs=None)
    wkt = _pick(cols, WKT_ALIASES)
    if wkt:
        texts = df[wkt].astype("string")
        shapes: list[object] = []
        for t in texts:
            try:
                shapes.append(shapely.from_wkt(t) if isinstance(t, str) and t.strip()
                             else shapely.Point())
            except shapely.errors.GEOSException:
                shapes.append(shapely.Point())
        return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=shapes, crs=None)
    raise InvalidInputError(
        f"{what} has no coordinate columns", [Problem(
            "expected lon/lat columns (also lng/lat, longitude/latitude, x/y, 经度/纬度; "
            f"or --map yourcol=lon) or a WKT column named geometry/wkt; found: {', '.join(cols)}",
            field="lon/lat")])


def _read_vector(src: str | io.BytesIO, encoding: str | None = None) -> gpd.GeoDataFrame:
    kw = {"encoding": encoding} if encoding else {}
    try:
        return pyogrio.read_dataframe(src, **kw)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        raise InvalidInputError("cannot read the file", [Problem(str(exc), field="file")]) from None


def _shapefile_in_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            shps = [n for n in zf.namelist() if n.lower().endswith(".shp")
                    and not n.startswith("__MACOSX")]
    except zipfile.BadZipFile:
        raise InvalidInputError(f"{path.name} is not a valid zip file",
                                [Problem("bad zip file", field="file")]) from None
    if len(shps) != 1:
        raise InvalidInputError(
            f"{path.name} must hold exactly one shapefile (.shp), found {len(shps)}",
            [Problem(f"shapefiles in zip: {', '.join(shps) or 'none'}", field="file")])
    return f"/vsizip/{path.resolve()}/{shps[0]}"


def _shapefile_encoding_check(path: Path, encoding: str | None) -> None:
    """Without a .cpg file, a DBF in a legacy encoding would be read as mojibake."""
    if encoding or path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists():
        return
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()),
               None)
    if dbf is not None:
        _check_utf8(dbf.read_bytes(), dbf.name)


def _zip_encoding_check(path: Path, encoding: str | None) -> None:
    if encoding:
        return
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if any(n.lower().endswith(".cpg") for n in names):
            return
        for n in names:
            if n.lower().endswith(".dbf"):
                _check_utf8(zf.read(n), n)


def _unshorten(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    back = {short: long for long, short in SHP_SHORT.items() if short in gdf.columns}
    return gdf.rename(columns=back)


def read_file(path: str | Path, *, encoding: str | None = None,
              field_map: Mapping[str, str] | None = None, sheet: str | int = 0) -> ReadResult:
    """Read a feature file by extension (see :data:`FORMATS`).

    Parameters
    ----------
    encoding
        Text encoding of CSV / Shapefile attribute / GeoJSON text when not UTF-8
        (e.g. ``gb18030``).
    field_map
        Column renames ``source → target`` applied first (so ``{"经度": "lon"}`` or a
        lon/lat swap ``{"lon": "lat", "lat": "lon"}`` work for CSV too).
    sheet
        Excel sheet name or index.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise InvalidInputError(f"no such file: {path.name}", [Problem("file not found",
                                                                        field="file")])
    gdf: gpd.GeoDataFrame
    if fmt == "csv":
        data = _decoded(path, encoding)
        try:
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                             na_values=[""], encoding="utf-8")
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InvalidInputError(f"cannot read {path.name} as CSV",
                                    [Problem(str(exc), field="file")]) from None
        df = apply_field_map(df, field_map)
        return ReadResult(table_to_frame(df, what=path.name), fmt, None, True)
    if fmt == "excel":
        try:
            df = pd.read_excel(path, sheet_name=sheet, dtype=object)
        except (ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InvalidInputError(f"cannot read {path.name} as Excel",
                                    [Problem(str(exc), field="file")]) from None
        df = apply_field_map(df, field_map)
        return ReadResult(table_to_frame(df, what=path.name), fmt, None, True)
    if fmt == "parquet":
        try:
            gdf = gpd.read_parquet(path)
        except ValueError:  # plain Parquet without GeoParquet metadata: a table
            df = apply_field_map(pd.read_parquet(path), field_map)
            return ReadResult(table_to_frame(df, what=path.name), fmt, None, True)
        return ReadResult(apply_field_map(gdf, field_map), fmt, gdf.crs, False)
    if fmt == "geojson":
        gdf = _read_vector(io.BytesIO(_decoded(path, encoding)))
    elif fmt == "shapefile":
        _shapefile_encoding_check(path, encoding)
        gdf = _unshorten(_read_vector(str(path), encoding))
    elif fmt == "shapefile-zip":
        inner = _shapefile_in_zip(path)
        _zip_encoding_check(path, encoding)
        gdf = _unshorten(_read_vector(inner, encoding))
    else:
        gdf = _read_vector(str(path), encoding)
    return ReadResult(apply_field_map(gdf, field_map), fmt, gdf.crs, False)


def apply_field_map(gdf: pd.DataFrame, field_map: Mapping[str, str] | None) -> pd.DataFrame:
    """Rename columns ``source → target``; a source column that is absent is an error."""
    if not field_map:
        return gdf
    missing = [s for s in field_map if s not in gdf.columns]
    if missing:
        raise InvalidInputError("field mapping names columns the file does not have", [
            Problem(f"no column {s!r} in the file; columns: {', '.join(map(str, gdf.columns))}",
                    field=s) for s in missing])
    return gdf.rename(columns=dict(field_map))


def parse_field_map(pairs: list[str] | None) -> dict[str, str]:
    """``["源=target", …]`` → ``{"源": "target"}``; malformed pairs are an error."""
    out: dict[str, str] = {}
    problems = []
    for p in pairs or []:
        src, sep, dst = p.partition("=")
        if not sep or not src.strip() or not dst.strip():
            problems.append(Problem(f"expected source=target, got {p!r}", field="--map"))
        else:
            out[src.strip()] = dst.strip()
    if problems:
        raise InvalidInputError("bad field mapping", problems)
    return out


def _for_text(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Attribute columns as plain values: lists joined by ';', timestamps as ISO text."""
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, gpd.array.GeometryDtype):
            df[col] = [None if g is None or g.is_empty else g.wkt for g in s]
        elif pd.api.types.is_datetime64_any_dtype(s):
            df[col] = [None if pd.isna(v) else v.isoformat() for v in s]
        elif s.dtype == object:
            df[col] = [";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
                       else (v.isoformat() if isinstance(v, pd.Timestamp) else v) for v in s]
    return df


def write_file(gdf: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write ``gdf`` (EPSG:4326) by extension: GeoJSON, GeoPackage, Shapefile (.shp or a
    zipped .zip), CSV (lon/lat for points, WKT ``geometry`` otherwise), GeoParquet, Excel.
    """
    path = Path(path)
    fmt = file_format(path)
    if gdf.crs is None or gdf.crs.to_epsg() != WGS84:
        gdf = gdf.set_crs(WGS84, allow_override=True) if gdf.crs is None else gdf.to_crs(WGS84)
    plain = _for_text(gdf)
    if fmt in TABULAR:
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        types = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]).tolist())
        if types <= {0}:
            plain["lon"] = shapely.get_x(geoms)
            plain["lat"] = shapely.get_y(geoms)
        else:
            plain["geometry"] = shapely.to_wkt(geoms)
        if fmt == "csv":
            plain.to_csv(path, index=False, encoding="utf-8")
        else:
            plain.to_excel(path, index=False)
        return
    out = gpd.GeoDataFrame(plain, geometry=gdf.geometry.values, crs=WGS84)
    if fmt == "parquet":
        out.to_parquet(path)
    elif fmt == "geojson":
        pyogrio.write_dataframe(out, path, driver="GeoJSON")
    elif fmt == "gpkg":
        pyogrio.write_dataframe(out, path, driver="GPKG", layer=path.stem)
    else:
        short = out.rename(columns=SHP_SHORT)
        if fmt == "shapefile":
            pyogrio.write_dataframe(short, path, driver="ESRI Shapefile", encoding="UTF-8")
            return
        with tempfile.TemporaryDirectory() as tmp:
            shp = Path(tmp) / f"{path.stem}.shp"
            pyogrio.write_dataframe(short, shp, driver="ESRI Shapefile", encoding="UTF-8")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in sorted(Path(tmp).iterdir()):
                    zf.write(f, f.name)


def resolve_crs(gdf: gpd.GeoDataFrame, *, file_crs: CRS | None, tabular: bool,
                crs: str | None = None) -> gpd.GeoDataFrame:
    """Declare and convert ``gdf`` to EPSG:4326.

    ``crs`` is ``wgs84``, ``gcj02``, ``bd09`` or any pyproj string (``EPSG:4547``). A
    vector file without its own CRS needs ``crs``; CSV/Excel default to WGS-84. An explicit
    ``crs`` overrides a file that says WGS-84 (GeoJSON always does); disagreeing with any
    other CRS the file declares is an error.
    """
    opt = (crs or "").strip().lower()
    if opt in ("gcj02", "gcj-02", "bd09", "bd-09"):
        return to_wgs84(gdf, "gcj02" if opt.startswith("gcj") else "bd09")
    declared: CRS | None = None
    if opt:
        try:
            declared = CRS.from_user_input(4326 if opt in ("wgs84", "wgs-84") else crs)
        except PyprojCRSError:
            raise CRSError(f"unknown CRS {crs!r}", [Problem(
                "allowed: wgs84, gcj02, bd09 or an EPSG code such as EPSG:4547",
                field="crs")]) from None
        if file_crs is not None and not _is_wgs84(file_crs) \
                and not file_crs.equals(declared, ignore_axis_order=True):
            raise CRSError("the file's CRS differs from --crs", [Problem(
                f"file declares {file_crs.to_string()}, --crs says {declared.to_string()}",
                field="crs")])
    elif file_crs is not None:
        declared = file_crs
    elif tabular:
        declared = CRS.from_epsg(WGS84)
    else:
        raise CRSError("the file has no coordinate reference system", [Problem(
            "missing CRS: give it with --crs (wgs84, gcj02, bd09 or EPSG:n)", field="crs")])
    out = gdf.set_crs(declared, allow_override=True)
    if _is_wgs84(declared):
        return out.set_crs(WGS84, allow_override=True)
    return _all_geometries_to_wgs84(out)


def _is_wgs84(crs: CRS) -> bool:
    return crs.to_epsg() == WGS84 or crs.equals(CRS.from_epsg(WGS84), ignore_axis_order=True)


def _all_geometries_to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    src = gdf.crs
    out = gdf.to_crs(WGS84)
    for col in out.columns:
        if col != out.geometry.name and isinstance(out[col].dtype, gpd.array.GeometryDtype):
            out[col] = gpd.GeoSeries(out[col], crs=src).to_crs(WGS84)
    return out

"""Reading and writing feature files: GeoJSON, GeoPackage, Shapefile (zipped or not), CSV
(lon/lat or WKT columns), GeoParquet and Excel.

Readers return the file's rows and geometries *as found*, with the CRS the file declares
(``None`` when it declares none, and always ``None`` for CSV/Excel, whose CRS is declared by
the caller); :func:`resolve_crs` then declares and converts them to EPSG:4326 (GCJ-02 and
BD-09 included). Validation is :mod:`geo.io.validate`'s job. A file that is not valid UTF-8 (and no ``encoding`` was given)
raises :class:`InvalidInputError` naming the encoding it looks like.

Files are untrusted input: a file that cannot be parsed (truncated, random, empty) is one
problem ("not a readable GeoParquet file") naming the file by its name only, never a
library's message or a server path; a file without a single row is an error, so is one
with more than :data:`MAX_COLUMNS` columns or an archive member named to land outside
the archive (``../``, an absolute path); zipped
Shapefiles, .xlsx and GeoParquet are checked against ``max_unpacked_bytes`` from their
directory/metadata before anything is unpacked, and a zipped Shapefile is unpacked with
bounded copies. Readers that would silently truncate text at a NUL character (GDAL:
GeoJSON, GeoPackage, Shapefile) are checked first and report the row and field instead.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import sqlite3
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
from geo.errors import CRSError, Hint, InvalidInputError, Problem
from geo.io.tables import csv_text, safe_frame

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
#: File formats as users know them, for messages ("not a readable GeoParquet file").
FORMAT_NAMES: dict[str, str] = {
    "geojson": "GeoJSON file", "gpkg": "GeoPackage file", "shapefile": "Shapefile",
    "shapefile-zip": "zipped Shapefile", "csv": "CSV file", "parquet": "GeoParquet file",
    "excel": "Excel (.xlsx) file"}
#: Default limit on the bytes a zipped Shapefile, an .xlsx or a GeoParquet file may unpack
#: to (imports use 4 × the upload limit): a 1 MB zip that inflates to 1 GB is refused from
#: its directory, before anything is unpacked.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_MAX_ZIP_MEMBERS = 1000
_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_MAX_LISTED = 100
_SQLITE_BUDGET_S = 30.0
#: Most columns a file may have (real feature files have a few dozen).
MAX_COLUMNS = 1000


@dataclass(frozen=True)
class ReadResult:
    """Rows of one file: ``frame`` with geometries as found and ``crs`` as declared.

    ``crs`` is ``None`` when the file declares none (and for CSV/Excel); ``tabular`` is
    True for CSV/Excel, whose CRS the caller declares (WGS-84 by default).
    ``unknown_crs`` is the text of a CRS the file declares but that cannot be interpreted
    (pass it to :func:`resolve_crs`, which refuses it unless a CRS is given explicitly).
    """

    frame: gpd.GeoDataFrame
    format: str
    crs: CRS | None
    tabular: bool
    unknown_crs: str | None = None


def file_format(path: Path) -> str:
    """Format name of ``path`` from its extension; :class:`InvalidInputError` if unknown."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"unknown file type {path.suffix or path.name!r}; "
            f"supported: {', '.join(sorted(FORMATS))}",
            [Problem("unknown file type", field="file")])
    return fmt


def guess_encoding(data: bytes) -> tuple[str, str | None] | None:
    """``(description, codec)`` of the legacy encoding ``data`` decodes in (codec ``None``
    when none fits), or ``None`` if it is UTF-8."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    for enc, label in _ENCODINGS:
        try:
            data.decode(enc)
            return label, enc
        except UnicodeDecodeError:
            continue
    return "an unknown encoding", None


def _check_utf8(data: bytes, what: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        label, enc = guess_encoding(data) or ("an unknown encoding", None)
        raise InvalidInputError(
            f"{what} is not valid UTF-8 text", [Problem(
                f"byte {exc.start} (line {line}) is not UTF-8; the file looks like {label}",
                field="encoding", hint=Hint(option="encoding", value=enc))]) from None


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
            "expected lon/lat columns (also lng/lat, longitude/latitude, x/y, 经度/纬度, or "
            f"yours mapped to lon/lat) or a WKT column named geometry/wkt; found: "
            f"{', '.join(cols)}", field="lon/lat", hint=Hint(option="map", value="yourcol=lon"))])


def _unreadable(name: str, fmt: str, why: str | None = None) -> InvalidInputError:
    """The error for a file that cannot be parsed: its name and format only, no library
    message (it may hold server paths and library internals)."""
    label = FORMAT_NAMES.get(fmt, f"{fmt} file")
    reason = f"not a readable {label}" + (f" ({why})" if why else "")
    return InvalidInputError(f"{name} is not a readable {label}",
                             [Problem(reason, field="file")])


def _no_rows(name: str, reason: str = "the file has no features/rows") -> InvalidInputError:
    return InvalidInputError(f"{name} has no features or rows", [Problem(reason, field="file")])


def _too_large_unpacked(name: str, size: int, limit: int) -> InvalidInputError:
    return InvalidInputError(f"{name} unpacks to too much data", [Problem(
        f"{size / 1e6:.1f} MB uncompressed exceeds the limit of {limit / 1e6:.1f} MB "
        "(4 × SERVICECIRCLE_MAX_UPLOAD_BYTES); split the file", field="file")])


def _check_encoding_name(encoding: str | None) -> None:
    if not encoding:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InvalidInputError(f"unknown encoding {encoding!r}", [Problem(
            f"unknown encoding {encoding!r} (e.g. gb18030, big5, utf-8)",
            field="encoding")]) from None


def _read_vector(src: str | io.BytesIO, fmt: str, name: str, *, encoding: str | None = None,
                 layer: str | None = None) -> gpd.GeoDataFrame:
    kw: dict[str, str] = {}
    if encoding:
        kw["encoding"] = encoding
    if layer is not None:
        kw["layer"] = layer
    try:
        return pyogrio.read_dataframe(src, **kw)
    except pyogrio.errors.CRSError:
        raise CRSError(f"the coordinate reference system of {name} cannot be interpreted", [
            Problem("the file's CRS definition is malformed or unknown; fix it, or remove it "
                    "and give the CRS", field="crs", hint=Hint(option="crs"))]) from None
    except Exception:  # noqa: BLE001 - any failure to parse untrusted bytes is "unreadable"
        raise _unreadable(name, fmt) from None


# --- text that GDAL would silently truncate at a NUL character -----------------------------

def _has_nul(v: object) -> bool:
    if isinstance(v, str):
        return "\x00" in v
    if isinstance(v, list):
        return any(_has_nul(x) for x in v)
    if isinstance(v, dict):
        return any(_has_nul(k) or _has_nul(x) for k, x in v.items())
    return False


def _nul_problem(row: int, field: str) -> Problem:
    return Problem("text contains a NUL character (U+0000), which would silently cut it "
                   "short; remove it", row=row, field=field)


def _raise_nul(name: str, problems: list[Problem]) -> None:
    if problems:
        raise InvalidInputError(f"{name} has text with NUL characters",
                                problems[:_MAX_LISTED])


def _geojson_crs_text(crs: object) -> tuple[str | None, CRS | None]:
    """(text, CRS) of a GeoJSON ``crs`` member; CRS ``None`` if it cannot be interpreted."""
    if crs is None:
        return None, None
    text_: str | None = None
    if isinstance(crs, dict):
        props = crs.get("properties")
        kind = str(crs.get("type", "")).lower()
        if isinstance(props, dict) and kind == "name" and isinstance(props.get("name"), str):
            text_ = props["name"]
        elif isinstance(props, dict) and kind == "epsg" and "code" in props:
            text_ = f"EPSG:{props['code']}"
    if text_ is None:
        return json.dumps(crs, ensure_ascii=False)[:200], None
    try:
        return text_, CRS.from_user_input(text_)
    except (PyprojCRSError, TypeError, ValueError):
        return text_[:200], None


def _scan_geojson(data: bytes, name: str) -> tuple[str | None, CRS | None]:
    """Check GeoJSON text before GDAL reads it: NUL characters in properties (GDAL would
    cut the text short) are problems naming row and field; returns the top-level ``crs``
    member as (text, CRS-or-None), ``(None, None)`` if there is none.

    Features are dropped as soon as they are parsed, so memory stays small. Files that
    cannot hold a ``crs`` member or a NUL (not even written with ``\\u00..`` escapes) are
    not parsed at all.
    """
    if b"crs" not in data and b"\\u00" not in data and b"\x00" not in data:
        return None, None
    problems: list[Problem] = []
    state: dict[str, object] = {"rows": 0, "last": None}

    def hook(pairs: list[tuple[str, object]]) -> object:
        obj = dict(pairs)
        state["last"] = obj
        if obj.get("type") != "Feature":
            return obj
        row = int(state["rows"]) + 1  # type: ignore[call-overload]
        state["rows"] = row
        props = obj.get("properties")
        if isinstance(props, dict):
            problems.extend(_nul_problem(row, str(k).replace("\x00", "\\0"))
                            for k, v in props.items() if _has_nul(k) or _has_nul(v))
        return None

    try:
        json.loads(data, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        raise _unreadable(name, "geojson", "not valid JSON") from None
    _raise_nul(name, problems)
    top = state["last"]
    return _geojson_crs_text(top.get("crs") if isinstance(top, dict) else None)


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only SQLite connection that gives up after :data:`_SQLITE_BUDGET_S`."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    deadline = time.monotonic() + _SQLITE_BUDGET_S
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield conn
    finally:
        conn.close()


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _gpkg_nul_problems(path: Path, layer: str, fid: str) -> list[Problem]:
    """Rows (in fid order, as GDAL reads them) and columns of ``layer`` holding a NUL.

    One scan of the table finds the rows; only when there are some are the row numbers
    worked out.
    """
    with _sqlite(path) as conn:
        geom = {r[0] for r in conn.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,))}
        cols = [str(r[1]) for r in conn.execute(f"PRAGMA table_info({_quote(layer)})")
                if r[1] not in geom and r[1] != fid]
        if not cols:
            return []
        tests = [f"(typeof({_quote(c)}) = 'text' AND instr(CAST({_quote(c)} AS BLOB), X'00') > 0)"
                 for c in cols]
        hits = conn.execute(
            f"SELECT {_quote(fid)}, {', '.join(tests)} FROM {_quote(layer)} "
            f"WHERE {' OR '.join(tests)} ORDER BY 1 LIMIT {_MAX_LISTED}").fetchall()
        if not hits:
            return []
        fids = np.array([r[0] for r in conn.execute(
            f"SELECT {_quote(fid)} FROM {_quote(layer)} ORDER BY 1")])
    rows = np.searchsorted(fids, [h[0] for h in hits]) + 1
    return [_nul_problem(int(row), c) for row, h in zip(rows, hits, strict=True)
            for c, bad in zip(cols, h[1:], strict=True) if bad]


def _dbf_nul_problems(dbf: Path) -> list[Problem]:
    """Rows and fields of a DBF whose character values hold a NUL followed by more text
    (trailing NUL padding is fine: only what comes after a NUL would be lost)."""
    data = dbf.read_bytes()
    if len(data) < 32:
        return []
    n, header_len, rec_len = struct.unpack_from("<IHH", data, 4)
    fields: list[tuple[str, int, int]] = []
    pos, off = 32, 1
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        fname = data[pos:pos + 11].split(b"\x00", 1)[0].decode("latin-1")
        width = data[pos + 16] + (256 * data[pos + 17] if data[pos + 11:pos + 12] == b"C" else 0)
        if data[pos + 11:pos + 12] == b"C":
            fields.append((fname, off, width))
        off += width
        pos += 32
    n = min(n, (len(data) - header_len) // rec_len) if rec_len and header_len < len(data) else 0
    if n <= 0 or not fields:
        return []
    recs = np.frombuffer(data, np.uint8, count=n * rec_len, offset=header_len).reshape(
        n, rec_len)
    live = recs[:, 0] != ord("*")  # GDAL skips deleted records
    rows = np.cumsum(live)
    back = {short: long for long, short in SHP_SHORT.items()}
    problems: list[Problem] = []
    for fname, start, width in fields:
        if start + width > rec_len:
            continue
        block = recs[:, start:start + width]
        for i in np.flatnonzero((block == 0).any(axis=1) & live):
            _, _, tail = bytes(block[i]).partition(b"\x00")
            if tail.strip(b"\x00 "):
                problems.append(_nul_problem(int(rows[i]), back.get(fname, fname)))
    return sorted(problems, key=lambda p: p.row or 0)


# --- containers: zip directories and GeoParquet metadata, checked before unpacking ---------

def _unsafe_member(member: str) -> bool:
    """An archive member named to land outside the folder it is unpacked to."""
    path = member.replace("\\", "/")
    return (path.startswith("/") or ".." in path.split("/")
            or (len(path) > 1 and path[1] == ":"))


def _zip_infos(zf: zipfile.ZipFile, name: str, fmt: str, limit: int) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > _MAX_ZIP_MEMBERS:
        raise _unreadable(name, fmt, f"more than {_MAX_ZIP_MEMBERS} entries")
    unsafe = [i.filename for i in infos if _unsafe_member(i.filename)]
    if unsafe:
        label = FORMAT_NAMES.get(fmt, f"{fmt} file")
        raise InvalidInputError(f"{name} is not a safe {label}", [Problem(
            f"archive member {m[:100]!r} points outside the archive (absolute path or '..')",
            field="file") for m in unsafe[:_MAX_LISTED]])
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise _too_large_unpacked(name, total, limit)
    return infos


def _check_zip_container(path: Path, fmt: str, limit: int) -> None:
    """Refuse an .xlsx whose zip directory says it unpacks to more than ``limit`` bytes."""
    try:
        with zipfile.ZipFile(path) as zf:
            _zip_infos(zf, path.name, fmt, limit)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise _unreadable(path.name, fmt) from None


def _extract_shapefile(path: Path, folder: Path, limit: int) -> Path:
    """Unpack the one Shapefile of a zip into ``folder`` with bounded copies; its .shp path.

    The sizes in the zip directory are checked first; each member is then copied at most
    to its declared size (a member that inflates beyond it fails its CRC check).
    """
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            infos = _zip_infos(zf, name, "shapefile-zip", limit)
            shps = [i for i in infos if i.filename.lower().endswith(".shp")
                    and not i.filename.startswith("__MACOSX") and not i.is_dir()]
            if len(shps) != 1:
                raise InvalidInputError(
                    f"{name} must hold exactly one shapefile (.shp), found {len(shps)}",
                    [Problem("shapefiles in zip: "
                             f"{', '.join(i.filename for i in shps) or 'none'}", field="file")])
            stem = shps[0].filename[:-4]
            total = 0
            for info in infos:
                base, dot, ext = info.filename.rpartition(".")
                ext = f".{ext.lower()}"
                if info.is_dir() or not dot or base != stem or ext not in _SHP_PARTS:
                    continue
                with zf.open(info) as src, (folder / f"data{ext}").open("wb") as dst:
                    left = info.file_size
                    while chunk := src.read(min(1 << 20, left + 1)):
                        left -= len(chunk)
                        total += len(chunk)
                        if left < 0 or total > limit:
                            raise _too_large_unpacked(name, total, limit)
                        dst.write(chunk)
    except InvalidInputError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError,
            NotImplementedError):
        raise _unreadable(name, "shapefile-zip") from None
    return folder / "data.shp"


def _read_parquet(path: Path, field_map: Mapping[str, str] | None, limit: int) -> ReadResult:
    import pyarrow.parquet as pq

    name = path.name
    try:
        meta = pq.read_metadata(path)
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        geo_meta = (meta.metadata or {}).get(b"geo")
    except Exception:  # noqa: BLE001 - any failure to parse untrusted bytes is "unreadable"
        raise _unreadable(name, "parquet") from None
    if unpacked > limit:
        raise _too_large_unpacked(name, unpacked, limit)
    if geo_meta is None:  # plain Parquet without GeoParquet metadata: a table
        try:
            df = pd.read_parquet(path)
        except Exception:  # noqa: BLE001
            raise _unreadable(name, "parquet") from None
        if len(df) == 0:
            raise _no_rows(name)
        df = apply_field_map(df, field_map)
        return ReadResult(table_to_frame(df, what=name), "parquet", None, True)
    try:
        gdf = gpd.read_parquet(path)
    except PyprojCRSError:
        raise CRSError(f"the coordinate reference system of {name} cannot be interpreted", [
            Problem(f"unknown or malformed CRS {_parquet_crs_text(geo_meta)!r} in the file's "
                    "GeoParquet metadata", field="crs")]) from None
    except Exception:  # noqa: BLE001
        raise _unreadable(name, "parquet") from None
    if len(gdf) == 0:
        raise _no_rows(name)
    return ReadResult(apply_field_map(gdf, field_map), "parquet", gdf.crs, False)


def _parquet_crs_text(geo_meta: bytes) -> str:
    try:
        meta = json.loads(geo_meta)
        crs = meta["columns"][meta["primary_column"]].get("crs")
    except (ValueError, KeyError, TypeError, AttributeError):
        return "?"
    return (crs if isinstance(crs, str) else json.dumps(crs, ensure_ascii=False))[:200]


def _gpkg_layer(path: Path, layer: str | None) -> tuple[str, str]:
    """The layer to read (the chosen one, or the only one with features) and its fid column.

    A GeoPackage with several feature layers and no choice is an error listing them.
    """
    name = path.name
    try:
        layers = [(str(n), g) for n, g in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001
        raise _unreadable(name, "gpkg") from None
    names = [n for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise InvalidInputError(f"{name} has no layer {layer!r}", [Problem(
                f"layers in the file: {', '.join(names) or 'none'}", field="layer")])
        chosen = layer
    else:
        spatial = [n for n, g in layers if g is not None] or names
        if not spatial:
            raise _no_rows(name, "the file has no layers")
        if len(spatial) > 1:
            raise InvalidInputError(f"{name} holds {len(spatial)} layers; choose one", [Problem(
                f"layers: {', '.join(spatial)}; choose one", field="layer",
                hint=Hint(option="layer", value=spatial[0]))])
        chosen = spatial[0]
    try:
        info = pyogrio.read_info(path, layer=chosen)
    except Exception:  # noqa: BLE001
        raise _unreadable(name, "gpkg") from None
    if len(info.get("fields", ())) > MAX_COLUMNS:
        raise _too_many_columns(name, len(info["fields"]))
    return chosen, str(info.get("fid_column") or "rowid")


def _shapefile_encoding_check(path: Path, encoding: str | None) -> None:
    """Without a .cpg file, a DBF in a legacy encoding would be read as mojibake."""
    if encoding or path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists():
        return
    dbf = _dbf_of(path)
    if dbf is not None:
        _check_utf8(dbf.read_bytes(), dbf.name)


def _dbf_of(shp: Path) -> Path | None:
    return next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()),
                None)


def _read_shapefile(shp: Path, name: str, fmt: str, encoding: str | None) -> gpd.GeoDataFrame:
    _shapefile_encoding_check(shp, encoding)
    dbf = _dbf_of(shp)
    if dbf is not None:
        _raise_nul(name, _dbf_nul_problems(dbf))
    return _unshorten(_read_vector(str(shp), fmt, name, encoding=encoding))


def _unshorten(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    back = {short: long for long, short in SHP_SHORT.items() if short in gdf.columns}
    return gdf.rename(columns=back)


def _too_many_columns(name: str, n: int) -> InvalidInputError:
    return InvalidInputError(f"{name} has too many columns", [Problem(
        f"{n} columns; at most {MAX_COLUMNS} are accepted: remove the ones not imported",
        field="file")])


def _check_columns(result: ReadResult, name: str) -> ReadResult:
    n = len(result.frame.columns) - 1  # the geometry column is not one of the file's
    if n > MAX_COLUMNS:
        raise _too_many_columns(name, n)
    return result


def read_file(path: str | Path, *, encoding: str | None = None,
              field_map: Mapping[str, str] | None = None, sheet: str | int = 0,
              layer: str | None = None,
              max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> ReadResult:
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
    layer
        GeoPackage layer to read; required when the file holds several feature layers.
    max_unpacked_bytes
        Most bytes a zipped Shapefile, an .xlsx or a GeoParquet file may unpack to.

    Raises :class:`InvalidInputError` for a file that cannot be read (one problem naming
    the file), holds no rows, or has text a reader would cut short at a NUL character;
    :class:`CRSError` for a CRS definition that cannot be interpreted.
    """
    path = Path(path)
    fmt = file_format(path)
    name = path.name
    if not path.exists():
        raise InvalidInputError(f"no such file: {name}", [Problem("file not found",
                                                                   field="file")])
    _check_encoding_name(encoding)
    if path.is_file() and path.stat().st_size == 0:
        raise _no_rows(name, "the file is empty (0 bytes)")
    if layer is not None and fmt != "gpkg":
        raise InvalidInputError(f"{name} has no layers to choose from", [Problem(
            "a layer can only be chosen in a GeoPackage (.gpkg)", field="layer")])
    gdf: gpd.GeoDataFrame
    if fmt == "csv":
        data = _decoded(path, encoding)
        try:
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                             na_values=[""], encoding="utf-8")
        except pd.errors.EmptyDataError:
            raise _no_rows(name) from None
        except (pd.errors.ParserError, ValueError) as exc:
            why = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc).splitlines()[0])
            raise InvalidInputError(f"cannot read {name} as CSV", [Problem(
                f"not a readable CSV file: {why[:200]}", field="file")]) from None
        if len(df) == 0:
            raise _no_rows(name)
        df = apply_field_map(df, field_map)
        return _check_columns(ReadResult(table_to_frame(df, what=name), fmt, None, True), name)
    if fmt == "excel":
        _check_zip_container(path, fmt, max_unpacked_bytes)
        try:
            df = pd.read_excel(path, sheet_name=sheet, dtype=object)
        except Exception:  # noqa: BLE001 - any failure to parse untrusted bytes
            raise _unreadable(name, fmt) from None
        if len(df) == 0:
            raise _no_rows(name)
        df = apply_field_map(df, field_map)
        return _check_columns(ReadResult(table_to_frame(df, what=name), fmt, None, True), name)
    if fmt == "parquet":
        return _check_columns(_read_parquet(path, field_map, max_unpacked_bytes), name)
    unknown_crs: str | None = None
    declared: CRS | None = None
    if fmt == "geojson":
        data = _decoded(path, encoding)
        crs_text, declared = _scan_geojson(data, name)
        unknown_crs = crs_text if crs_text is not None and declared is None else None
        gdf = _read_vector(io.BytesIO(data), fmt, name)
    elif fmt == "shapefile":
        gdf = _read_shapefile(path, name, fmt, encoding)
    elif fmt == "shapefile-zip":
        with tempfile.TemporaryDirectory() as tmp:
            shp = _extract_shapefile(path, Path(tmp), max_unpacked_bytes)
            gdf = _read_shapefile(shp, name, fmt, encoding)
    else:
        chosen, fid = _gpkg_layer(path, layer)
        try:
            nul = _gpkg_nul_problems(path, chosen, fid)
        except sqlite3.Error:
            raise _unreadable(name, fmt) from None
        _raise_nul(name, nul)
        gdf = _read_vector(str(path), fmt, name, encoding=encoding, layer=chosen)
    if len(gdf) == 0:
        raise _no_rows(name)
    file_crs = None if unknown_crs is not None else gdf.crs  # GDAL would say WGS-84
    if declared is not None and (file_crs is None
                                 or not file_crs.equals(declared, ignore_axis_order=True)):
        file_crs = declared
    return _check_columns(ReadResult(apply_field_map(gdf, field_map), fmt, file_crs, False,
                                     unknown_crs), name)


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
            problems.append(Problem(f"expected source=target, got {p!r}", field="map"))
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


def gpkg_layer_name(path: Path) -> str:
    """Layer name for a GeoPackage written to ``path``: its stem, unless GeoPackage/SQLite
    reserve the name (``gpkg…``, ``rtree_…``, ``sqlite_…``), then prefixed ``layer_``."""
    stem = path.stem or "layer"
    if stem.lower().startswith(("gpkg", "rtree_", "sqlite_")):
        return f"layer_{stem}"
    return stem


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
        safe = safe_frame(plain)  # BOM, whole people, formulas neutralised: geo.io.tables
        if fmt == "csv":
            path.write_text(csv_text([str(c) for c in safe.columns],
                                     safe.to_dict("records")), encoding="utf-8")
        else:
            safe.to_excel(path, index=False)
        return
    out = gpd.GeoDataFrame(plain, geometry=gdf.geometry.values, crs=WGS84)
    if fmt == "parquet":
        out.to_parquet(path)
    elif fmt == "geojson":
        pyogrio.write_dataframe(out, path, driver="GeoJSON")
    elif fmt == "gpkg":
        pyogrio.write_dataframe(out, path, driver="GPKG", layer=gpkg_layer_name(path))
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
                crs: str | None = None, unknown_crs: str | None = None) -> gpd.GeoDataFrame:
    """Declare and convert ``gdf`` to EPSG:4326.

    ``crs`` is ``wgs84``, ``gcj02``, ``bd09`` or any pyproj string (``EPSG:4547``). A
    vector file without its own CRS needs ``crs``; CSV/Excel default to WGS-84. An explicit
    ``crs`` overrides a file that says WGS-84 (GeoJSON always does); disagreeing with any
    other CRS the file declares is an error. ``unknown_crs`` is a CRS the file declares
    but that cannot be interpreted (:attr:`ReadResult.unknown_crs`): without an explicit
    ``crs`` it is a :class:`CRSError` naming it, never silently WGS-84.
    """
    opt = (crs or "").strip().lower()
    if unknown_crs is not None and not opt:
        raise CRSError(f"the file declares an unknown CRS {unknown_crs!r}", [Problem(
            f"unknown or unsupported CRS {unknown_crs!r}: declare a known one in the file "
            "(e.g. EPSG:4326, EPSG:4547) or give it", field="crs", hint=Hint(option="crs"))])
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
            raise CRSError("the file's CRS differs from the one given", [Problem(
                f"file declares {file_crs.to_string()}, the CRS given is {declared.to_string()}",
                field="crs")])
    elif file_crs is not None:
        declared = file_crs
    elif tabular:
        declared = CRS.from_epsg(WGS84)
    else:
        raise CRSError("the file has no coordinate reference system", [Problem(
            "missing CRS: give it (wgs84, gcj02, bd09 or EPSG:n)", field="crs",
            hint=Hint(option="crs"))])
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

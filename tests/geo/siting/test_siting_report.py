"""The one-page siting report: HTML content and a one-page PDF; hostile names stay inert."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.domain import PROPOSED_SITE_COLOR, SERVICE_TYPES, added_type_color
from geo.errors import GeoError
from geo.siting.report import ReportData, render_html, render_pdf


def _data() -> ReportData:
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2], "candidate": ["s1", "g2"], "kind": ["street", "gate"],
         "name": ["桂花苑附近", ""], "gain": [1234.0, 56.0], "demand_inside": [4, 1],
         "cost": [float("nan"), 80000.0]},
        geometry=[Point(117.21, 28.29), Point(117.22, 28.30)], crs=4326)
    comp = gpd.GeoDataFrame({"covered_before": [True, False, False],
                             "covered_after": [True, True, False]},
                            geometry=[box(117.20, 28.28, 117.205, 28.285),
                                      box(117.21, 28.29, 117.215, 28.295),
                                      box(117.23, 28.31, 117.235, 28.315)], crs=4326)
    return ReportData(title="测试方案 Test scenario", city_name="贵溪 Guixi",
                      service_type="red_station", minutes=15, weight="residents",
                      total_weight=5000, before_weight=3000, after_weight=4290, sites=sites,
                      compounds=comp, stations=gpd.GeoDataFrame(geometry=[Point(117.2, 28.28)],
                                                                crs=4326),
                      solver={"solver": "highs", "status": "optimal", "gap": 0.0})


def test_html_has_ranked_table_and_figures():
    html = render_html(_data())
    assert "红色驿站" in html and "Red station" in html
    assert html.index("桂花苑附近") < html.index(">g2<")  # unnamed site shows its id
    assert "1,234" in html and "80,000" in html and "+1,290" in html
    assert "85.8 %" in html  # 4290 / 5000
    assert html.count("<polygon") == 3 and html.count("<circle") == 2



def test_stations_and_legend_take_the_vocabulary_colour_of_their_type():
    html = render_html(_data())
    red = SERVICE_TYPES["red_station"].color
    assert f'height="8" fill="{red}"' in html  # the existing station's square
    assert f"background:{red}" in html  # its legend swatch
    assert f'fill="{PROPOSED_SITE_COLOR}"' in html


def test_an_added_type_shows_its_stored_labels_and_own_colour():
    html = render_html(replace(_data(), service_type="youth_station",
                               type_labels=("青年驿站", "Youth station")))
    assert "青年驿站" in html and "Youth station" in html and "红色驿站" not in html
    assert f'height="8" fill="{added_type_color("youth_station")}"' in html
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium")
def test_pdf_is_one_page(tmp_path, artifacts):
    pdf = render_pdf(render_html(_data()))
    assert pdf.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(tmp_path / "r.pdf")], capture_output=True,
                              text=True, check=True).stdout
        assert info.split("Pages:")[1].split()[0] == "1"
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(tmp_path / "r.pdf"),
                        str(artifacts / "siting_report")], check=True)


# --- hostile names: stored XSS and local-file reads through the report ------------------

IFRAME = '<iframe src="file:///etc/hostname"></iframe>'
HOSTILE = f'R{IFRAME}<script>alert(1)</script><img src=x onerror=alert(2)>'


def _hostile() -> ReportData:
    d = _data()
    sites = d.sites.assign(name=[HOSTILE, ""], kind=["street", "<b>kind</b>"])
    return replace(d, title=HOSTILE, city_name=f"贵溪 {IFRAME}", sites=sites,
                   solver={"solver": "<i>x</i>", "status": "optimal", "gap": 0.0})


def test_names_are_escaped_text_in_the_html():
    html = render_html(_hostile())
    assert "<iframe" not in html and "<script" not in html and "<img" not in html
    assert "<b>kind" not in html and "<i>x" not in html
    assert "R&lt;iframe src=&#34;file:///etc/hostname&#34;&gt;&lt;/iframe&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    head = html[:html.index("<title>")]  # the policy comes before any text from the data
    assert 'http-equiv="Content-Security-Policy"' in head
    assert "default-src &#39;none&#39;" in head
    assert html.count("<polygon") == 3 and html.count("<circle") == 2  # the map stays


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server on 127.0.0.1 that records every path requested."""
    hits: ClassVar[list[str]] = []
    handler = type("H", (_Recorder,), {"hits": hits})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", hits
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def secret() -> Iterator[tuple[Path, str]]:
    """A world-readable file holding a unique token (readable by any local user)."""
    d = Path(tempfile.mkdtemp())
    try:
        d.chmod(0o755)
        token = f"SECRET-{uuid.uuid4().hex}"
        f = d / "secret.txt"
        f.write_text(token + "\n", encoding="utf-8")
        f.chmod(0o644)
        yield f, token
    finally:
        shutil.rmtree(d)


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "h.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp_path / "h.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout


needs_pdf = [pytest.mark.slow,
             pytest.mark.skipif(shutil.which("chromium") is None or
                                shutil.which("pdftotext") is None,
                                reason="needs Chromium and pdftotext")]


@pytest.mark.parametrize("escaped", [False, True], ids=["raw-page", "report"])
@needs_pdf[0]
@needs_pdf[1]
def test_pdf_reads_no_local_file_fetches_nothing_runs_no_script(
        escaped, recorder, secret, tmp_path):
    base, hits = recorder
    path, token = secret
    evil = (f'<iframe src="{path.as_uri()}"></iframe><iframe src="file:///etc/hostname"></iframe>'
            f'<object data="{path.as_uri()}" type="text/plain"></object>'
            f'<embed src="{path.as_uri()}" type="text/plain">'
            f'<img src="{base}/img"><iframe src="{base}/frame"></iframe>'
            f'<link rel="stylesheet" href="{base}/css"><style>@import url({base}/imp);'
            f'body {{ background: url({base}/bg) }}</style>'
            f'<meta http-equiv="refresh" content="0;url={path.as_uri()}">'
            '<script>while (true) {}</script>')
    if escaped:  # a hostile name going through the report
        html = render_html(replace(_data(), title=f"R{evil}"))
    else:  # the printer alone, given markup no template escaped
        html = f"<!DOCTYPE html><html><body><h1>R-start</h1>{evil}<p>R-end</p></body></html>"
    t0 = time.monotonic()
    text = _pdf_text(render_pdf(html), tmp_path)
    assert time.monotonic() - t0 < 15
    assert token not in text
    hostname = Path("/etc/hostname").read_text().strip()
    if len(hostname) >= 4:
        assert hostname not in text
    assert hits == []
    if escaped:
        assert "iframe" in text and "测试方案" not in text  # the name printed as text
    else:
        assert "R-start" in text and "R-end" in text


@needs_pdf[0]
@needs_pdf[1]
def test_pdf_gives_up_at_the_deadline():
    with pytest.raises(GeoError):
        render_pdf(render_html(_data()), timeout_s=0.05)

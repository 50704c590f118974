/* Views that travel: the address holds the view, and the view can be exported.

   The query holds city and lang (the server builds the page for them); the hash holds the
   rest: ``map=zoom/lat/lon`` (kept by MapLibre), ``layers=a,b`` (catalogue layers on),
   ``type`` and ``minutes`` (coverage selectors), ``at`` (the time control's moment:
   ``Mo 22:00``, ``now``; none: all day), ``period=YYYY-MM/YYYY-MM`` (case period).
   Opening such a link reproduces the view; every change rewrites the hash (replaceState,
   no history entry per pan). Export: a PNG of the map as drawn, and a print layout with
   title, legend, scale bar, north arrow, attribution and date. */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, S = C.strings, esc = SC.esc;
  var T = SC.i18n({
    zh: { title: '导出与分享', png: '导出图片（PNG）', print: '打印版式', copy: '复制链接',
          copied: '已复制', close: '关闭', do_print: '打印', date: '制图日期', north: '北',
          legend: '图例', scale: '比例尺', minutes: '分钟' },
    en: { title: 'Export and share', png: 'Export image (PNG)', print: 'Print layout',
          copy: 'Copy link', copied: 'Copied', close: 'Close', do_print: 'Print', date: 'Made on',
          north: 'N', legend: 'Legend', scale: 'Scale', minutes: 'min' }
  });
  var OWN = ['layers', 'type', 'minutes', 'at', 'period'];

  /* ---- the hash --------------------------------------------------------------------- */
  function readHash() {
    var out = {};
    window.location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var i = part.indexOf('=');
      if (i > 0) { out[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); }
    });
    return out;
  }
  function enc(v) { return encodeURIComponent(v).replace(/%2C/g, ',').replace(/%2F/g, '/'); }
  function state() {
    var sel = SC.coverage.selection, per = SC.hotspots ? SC.hotspots.period() : ['', ''];
    return { layers: SC.layersOn().join(','), type: sel.service_type || '', minutes: String(sel.minutes || ''),
             at: SC.openAt ? SC.openAt.chosen() : '',
             period: per[0] || per[1] ? per[0] + '/' + per[1] : '' };
  }
  var applying = false;
  function writeHash() {
    if (applying) { return; }
    var h = readHash(), st = state();
    var parts = h.map ? ['map=' + h.map] : [];  // MapLibre's own part, as it wrote it
    Object.keys(h).forEach(function (k) {
      if (k !== 'map' && OWN.indexOf(k) < 0) { parts.push(k + '=' + enc(h[k])); }
    });
    OWN.forEach(function (k) { if (st[k] !== '') { parts.push(k + '=' + enc(st[k])); } });
    if (!st.layers) { parts.push('layers='); }  // none on: say so (not the default)
    var url = window.location.pathname + window.location.search + '#' + parts.join('&');
    window.history.replaceState(window.history.state, '', url);
    var lang = document.getElementById('lang');  // the other language keeps the view
    if (lang) { lang.href = lang.href.split('#')[0] + '#' + parts.join('&'); }
  }
  /* The hash of this view for another city (its own position). */
  SC.viewHash = function () {
    return '#' + window.location.hash.replace(/^#/, '').split('&').filter(function (p) {
      return p && p.indexOf('map=') !== 0;
    }).join('&');
  };
  /* Apply the view a link holds (after the panels exist). */
  function applyHash() {
    var h = readHash();
    applying = true;
    try {
      if (h.type !== undefined || h.minutes !== undefined) {
        var types = SC.vocab.service_types.map(function (t) { return t.code; });
        var type = h.type !== undefined && (h.type === '' || types.indexOf(h.type) >= 0) ? h.type : null;
        var m = Number(h.minutes), mins = SC.vocab.thresholds.walk_minutes.indexOf(m) >= 0 ? m : null;
        SC.coverage.choose(type, mins);
      }
      if (h.at !== undefined && SC.openAt) { SC.openAt.choose(h.at); }
      if (h.layers !== undefined) {
        var want = h.layers ? h.layers.split(',') : [];
        SC.state.layers.forEach(function (l) {
          if (l.drawn && (want.indexOf(l.name) >= 0) !== SC.layerOn(l.name)) {
            SC.setLayer(l.name, want.indexOf(l.name) >= 0);
          }
        });
      }
      if (h.period !== undefined && SC.hotspots) {
        var p = h.period.split('/'), ok = /^(\d{4}-\d{2})?$/;
        if (p.length === 2 && ok.test(p[0]) && ok.test(p[1])) {
          SC.hotspots.period(p[0], p[1]);  // drawn with "Show" (the link's layers stay as listed)
        }
      }
    } finally { applying = false; }
    writeHash();
  }

  /* ---- export ----------------------------------------------------------------------- */
  /* The map as drawn, as a PNG blob (read in the frame it is drawn, so no
     preserveDrawingBuffer is needed). */
  function png() {
    return new Promise(function (resolve) {
      SC.map.once('render', function () { SC.map.getCanvas().toBlob(resolve, 'image/png'); });
      SC.map.triggerRepaint();
    });
  }
  function fileName(ext) {
    var sel = SC.coverage.selection;
    return ['servicecircle', C.city || 'map', sel.service_type || 'all', (sel.minutes || '') + 'min']
      .join('-') + '.' + ext;
  }
  function downloadPng() {
    return png().then(function (blob) {
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = fileName('png');
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      return blob;
    });
  }

  /* A round scale length for ``maxMetres``: 1, 2 or 5 × 10^n metres (the largest not
     above it). */
  var STEPS = [1, 2, 2.5 * 2], M_PER_KM = 8 * 125;
  function roundMetres(maxMetres) {
    var p = Math.exp(Math.floor(Math.log(maxMetres) / Math.LN10) * Math.LN10), d = maxMetres / p;
    var step = STEPS.filter(function (s) { return s <= d * (1 + 1e-9); }).pop() || 1;
    return Math.round(step * p * 1e6) / 1e6;
  }
  /* Metres per CSS pixel at the map's centre (haversine across 100 pixels). */
  function metresPerPixel() {
    var c = SC.map.getContainer(), y = c.clientHeight / 2, x = c.clientWidth / 2;
    var a = SC.map.unproject([x - 50, y]), b = SC.map.unproject([x + 50, y]);
    var R = 6371008.8, rad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * rad, dLon = (b.lng - a.lng) * rad;
    var h = Math.pow(Math.sin(dLat / 2), 2) +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.pow(Math.sin(dLon / 2), 2);
    return 2 * R * Math.asin(Math.sqrt(h)) / 100;
  }
  function titleText() {
    var city = document.getElementById('city'), sel = SC.coverage.selection;
    var cityName = city ? city.options[city.selectedIndex].textContent : (C.city || '');
    var type = SC.vocab.label('service_type', sel.service_type) || '';
    return [cityName, type, sel.minutes ? sel.minutes + (SC.lang === 'en' ? '-' : '') + T.minutes : '',
            sel.at && SC.openAt ? SC.openAt.shown(sel.at) : '', S.title].filter(Boolean).join(' · ');
  }
  var SHEET_IMG_PX = 900, SCALE_SHARE = 0.2;  // map width on the sheet (CSS px); bar ≤ 1/5 of it
  function dataUrl(blob) {  // the page's policy allows data: images, not blob: ones
    return new Promise(function (resolve) {
      var r = new FileReader();
      r.onload = function () { resolve(r.result); };
      r.readAsDataURL(blob);
    });
  }
  function printLayout() {
    return png().then(dataUrl).then(function (src) {
      var canvas = SC.map.getCanvas(), cssWidth = canvas.clientWidth || canvas.width;
      var mpp = metresPerPixel();  // metres per map pixel
      var metres = roundMetres(mpp * cssWidth * SCALE_SHARE);
      // the bar in percent of the map image, so it measures at any printed size
      var barShare = metres / mpp / cssWidth;
      var bearing = SC.map.getBearing();
      var sheet = document.getElementById('print-sheet') || document.createElement('div');
      sheet.id = 'print-sheet';
      sheet.innerHTML = '<div class="ps-tools"><button type="button" id="ps-print">' + esc(T.do_print) +
        '</button> <button type="button" id="ps-close">' + esc(T.close) + '</button></div>' +
        '<h1 id="ps-title">' + esc(titleText()) + '</h1>' +
        '<div class="ps-body"><div class="ps-map"><img id="ps-img" alt="" width="' + Math.min(SHEET_IMG_PX, cssWidth) +
        '" src="' + src + '">' +
        '<svg id="ps-north" width="36" height="48" viewBox="-18 -26 36 48" aria-label="' + esc(T.north) + '">' +
        '<g transform="rotate(' + (-bearing).toFixed(1) + ')"><path d="M0,-20 L9,9 L0,4 L-9,9 Z" fill="#222"/></g>' +
        '<text x="0" y="21" text-anchor="middle">' + esc(T.north) + '</text></svg>' +
        '<div id="ps-scale" data-metres="' + metres + '">' +
        '<div class="bar" style="width:' + (100 * barShare).toFixed(3) + '%"></div><span>' +
        esc(metres >= M_PER_KM ? metres / M_PER_KM + ' km' : metres + ' m') + '</span></div></div>' +
        '<div class="ps-side"><h2>' + esc(T.legend) + '</h2><div id="ps-legend" class="sc-legend">' +
        document.querySelector('.sc-legend').innerHTML + '</div></div></div>' +
        '<footer><span id="ps-attrib">' + esc(attribution()) + '</span> · <span id="ps-date">' +
        esc(T.date) + ' ' + new Date().toISOString().split('T')[0] + '</span> · <span>' +
        esc(window.location.href) + '</span></footer>';
      document.body.appendChild(sheet);
      document.body.classList.add('printing');
      sheet.querySelector('#ps-close').addEventListener('click', function () {
        document.body.classList.remove('printing');
      });
      sheet.querySelector('#ps-print').addEventListener('click', function () { window.print(); });
      return new Promise(function (resolve) {
        var img = sheet.querySelector('#ps-img');
        if (img.complete) { resolve(sheet); } else { img.onload = function () { resolve(sheet); }; }
      });
    });
  }
  function attribution() {
    var el = document.querySelector('.maplibregl-ctrl-attrib-inner');
    return el ? el.textContent.trim() : S.attribution;
  }

  SC.whenReady(function () {
    var body = SC.section('views', T.title, false);
    body.classList.add('sc-views');
    body.innerHTML = '<button type="button" id="v-png">' + esc(T.png) + '</button> ' +
      '<button type="button" id="v-print">' + esc(T.print) + '</button> ' +
      '<button type="button" id="v-copy">' + esc(T.copy) + '</button> <small id="v-copied"></small>';
    body.querySelector('#v-png').addEventListener('click', downloadPng);
    body.querySelector('#v-print').addEventListener('click', printLayout);
    body.querySelector('#v-copy').addEventListener('click', function () {
      var done = function () { body.querySelector('#v-copied').textContent = T.copied; };
      if (navigator.clipboard) { navigator.clipboard.writeText(window.location.href).then(done, function () {}); }
    });
    applyHash();
    window.addEventListener('sc:change', writeHash);
    SC.map.on('moveend', function () { window.setTimeout(writeHash, 0); });  // after MapLibre's part
    window.addEventListener('hashchange', applyHash);
    SC.views = { png: png, download: downloadPng, print: printLayout, state: state, apply: applyHash,
                 metresPerPixel: metresPerPixel };
  });
}());

/* The nearest-station finder page (/finder): phone first. A start comes from a tap on
   the map, a searched place (/cities/{city}/finder/search) or the device's location; the
   nearest stations of the chosen type (/cities/{city}/finder/nearest) are listed with
   minutes, opening hours and services, and their routes drawn. Labels, colours and
   service types come from the server (/vocabulary and the answers), never from here.
   window.SCF exposes the page's state for tests: ready, answer, routeDrawn(), idle(). */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, S = C.strings, esc = SC.esc;
  var F = window.SCF = { ready: false, answer: null, error: null, selected: 1, start: null };
  var city = C.city, type = C.service_type, mode = 'walk', P = C.palette, color = P.other;
  var $ = function (id) { return document.getElementById(id); };
  var OTHER = P.other;

  maplibregl.setWorkerUrl(C.worker);
  var opts = { container: 'map', style: C.style, attributionControl: false, maxZoom: 19,
               localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', sans-serif" };
  if (C.bounds) {
    opts.bounds = [[C.bounds[0][1], C.bounds[0][0]], [C.bounds[1][1], C.bounds[1][0]]];
    opts.fitBoundsOptions = { padding: 12 };
  }
  var map = F.map = new maplibregl.Map(opts);
  map.addControl(new maplibregl.AttributionControl({ compact: true,
                                                     customAttribution: esc(S.attribution) }),
                 'top-right');

  function empty() { return { type: 'FeatureCollection', features: [] }; }
  function status(text, error) {
    var el = $('fstatus');
    el.textContent = text;
    el.className = error ? 'error' : '';
  }

  /* ---- the answer on the map and in the list ------------------------------------- */
  function routeData() {
    var a = F.answer, feats = [];
    (a ? a.stations : []).forEach(function (s) {
      feats.push({ type: 'Feature', geometry: s.route,
                   properties: { rank: s.rank, on: s.rank === F.selected,
                                 color: s.rank === F.selected ? color : OTHER } });
    });
    return { type: 'FeatureCollection', features: feats };
  }
  function stationData() {
    var a = F.answer;
    return { type: 'FeatureCollection', features: (a ? a.stations : []).map(function (s) {
      return { type: 'Feature', geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
               properties: { rank: s.rank, color: s.rank === F.selected ? color : OTHER } };
    }) };
  }
  function startData() {
    var a = F.answer, p = a ? a.start : F.start;
    return p ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {},
      geometry: { type: 'Point', coordinates: [p.lon, p.lat] } }] } : empty();
  }
  function redraw() {
    map.getSource('f-routes').setData(routeData());
    map.getSource('f-stations').setData(stationData());
    map.getSource('f-start').setData(startData());
  }

  function item(s) {
    var li = document.createElement('li');
    li.dataset.rank = s.rank;
    var svc = s.services.map(function (v) { return '<span>' + esc(v.label) + '</span>'; }).join('');
    li.innerHTML = '<div class="fh"><span class="rank">' + s.rank + '</span>' +
      '<span class="name">' + esc(s.name) + '</span>' +
      '<span class="min">' + SC.fmt.number(s.minutes) + ' ' + esc(S.min) + '</span></div>' +
      '<div class="meta">' + SC.fmt.whole(s.metres) + ' ' + esc(S.m) +
      (s.opening_hours ? ' · ' + esc(S.hours) + ' ' + esc(s.opening_hours) : '') +
      (s.address ? ' · ' + esc(s.address) : '') + '</div>' +
      (svc ? '<div class="svc" title="' + esc(S.services) + '">' + svc + '</div>' : '');
    li.addEventListener('click', function () { select(s.rank, true); });
    return li;
  }
  function paintList() {
    Array.prototype.forEach.call($('flist').children, function (li) {
      var on = Number(li.dataset.rank) === F.selected;
      li.className = on ? 'on' : '';
      li.querySelector('.rank').style.background = on ? color : OTHER;
    });
  }
  function fit(stations) {
    var a = F.answer, b = new maplibregl.LngLatBounds([a.start.lon, a.start.lat], [a.start.lon, a.start.lat]);
    stations.forEach(function (s) { s.route.coordinates.forEach(function (c) { b.extend(c); }); });
    var wide = window.innerWidth >= 760, sheet = $('fsheet').offsetHeight;
    map.fitBounds(b, { padding: { top: 120, right: 50, left: wide ? 410 : 50,
                                  bottom: wide ? 30 : sheet + 20 }, maxZoom: 17, duration: 0 });
  }
  function select(rank, zoom) {
    F.selected = rank;
    redraw();
    paintList();
    if (zoom && F.answer) {
      fit(F.answer.stations.filter(function (s) { return s.rank === rank; }));
    }
  }
  function show(a) {
    F.answer = a;
    F.selected = 1;
    var list = $('flist');
    list.innerHTML = '';
    a.stations.forEach(function (s) { list.appendChild(item(s)); });
    var from = a.place ? ' · ' + S.from + ' ' + a.place.name : '';
    status(a.stations.length ? a.service_type.label + ' · ' + S.nearest + from : S.none + from,
           !a.stations.length);
    select(1, false);
    if (a.stations.length) { fit(a.stations); }
  }

  /* ---- asking the server ---------------------------------------------------------- */
  var asked = 0;
  function ask(start) {
    F.start = start.q ? null : start;
    var n = ++asked, q = { service_type: type, mode: mode, k: C.k, lang: SC.lang };
    Object.keys(start).forEach(function (k) { q[k] = start[k]; });
    F.pending = q;
    status(S.loading);
    F.busy = true;
    return SC.request('/cities/' + encodeURIComponent(city) + '/finder/nearest?' +
                      new URLSearchParams(q).toString()).then(function (res) {
      if (n !== asked) { return; }
      F.busy = false;
      if (!res[0]) {
        F.answer = null;
        F.error = res[1];
        $('flist').innerHTML = '';
        redraw();
        status(res[1].code === 'no-place' ? S.no_place : (res[1].detail || res[1].title || 'error'),
               true);
        return;
      }
      F.error = null;
      show(res[1]);
    }, function (err) { F.busy = false; status(String(err), true); });
  }
  F.ask = ask;

  map.on('click', function (e) {
    if (!F.ready) { return; }
    $('fplaces').hidden = true;
    ask({ lon: e.lngLat.lng.toFixed(6), lat: e.lngLat.lat.toFixed(6) });
  });

  $('flocate').addEventListener('click', function () {
    if (!navigator.geolocation) { status(S.no_location, true); return; }
    status(S.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      ask({ lon: pos.coords.longitude.toFixed(6), lat: pos.coords.latitude.toFixed(6) });
    }, function () { status(S.no_location, true); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  /* ---- address search --------------------------------------------------------------- */
  var timer = null, searched = 0;
  function places(text) {
    var n = ++searched, ul = $('fplaces');
    if (!text) { ul.hidden = true; return; }
    SC.request('/cities/' + encodeURIComponent(city) + '/finder/search?' +
               new URLSearchParams({ q: text, limit: 8 }).toString()).then(function (res) {
      if (n !== searched) { return; }
      ul.innerHTML = '';
      var found = res[0] ? res[1].results : [];
      found.forEach(function (p) {
        var li = document.createElement('li');
        li.innerHTML = esc(p.name) + '<small>' + esc(S[p.kind] || p.kind) + '</small>';
        li.addEventListener('click', function () {
          ul.hidden = true;
          $('fq').value = p.name;
          ask({ q: p.name });
        });
        ul.appendChild(li);
      });
      ul.hidden = !found.length;
    });
  }
  $('fq').addEventListener('input', function () {
    var text = this.value.trim();
    clearTimeout(timer);
    timer = setTimeout(function () { places(text); }, 280);
  });
  $('fsearch').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('fq').value.trim();
    $('fplaces').hidden = true;
    if (text) { ask({ q: text }); }
  });

  /* ---- type and mode ---------------------------------------------------------------- */
  function again() {
    if (F.pending) {
      var start = {};
      ['lon', 'lat', 'q'].forEach(function (k) { if (F.pending[k]) { start[k] = F.pending[k]; } });
      ask(start);
    }
  }
  function filterType() {
    ['service_points', 'service_points:glyph'].forEach(function (id) {
      if (map.getLayer(id)) { map.setFilter(id, ['==', ['get', 'type'], type]); }
    });
  }
  $('ftype').addEventListener('change', function () {
    type = this.value;
    color = this.selectedOptions[0].dataset.color || color;
    filterType();
    again();
  });
  Array.prototype.forEach.call(document.querySelectorAll('#fmode input'), function (r) {
    r.addEventListener('change', function () { mode = this.value; again(); });
  });

  /* ---- start -------------------------------------------------------------------------- */
  var loaded = new Promise(function (resolve) { map.on('load', resolve); });
  Promise.all([SC.vocabulary, loaded]).then(function (all) {
    var v = all[0], sel = $('ftype');
    v.service_types.forEach(function (t) {
      var o = document.createElement('option');
      o.value = t.code;
      o.textContent = t.label;
      o.dataset.color = t.color || '';
      o.selected = t.code === type;
      if (o.selected && t.color) { color = t.color; }
      sel.appendChild(o);
    });
    map.addSource('f-routes', { type: 'geojson', data: empty() });
    map.addSource('f-stations', { type: 'geojson', data: empty() });
    map.addSource('f-start', { type: 'geojson', data: empty() });
    var round = { 'line-cap': 'round', 'line-join': 'round',
                  'line-sort-key': ['case', ['get', 'on'], 1, 0] };
    map.addLayer({ id: 'f-routes-casing', type: 'line', source: 'f-routes', layout: round,
                   paint: { 'line-color': P.halo, 'line-width': ['case', ['get', 'on'], 9, 6] } });
    map.addLayer({ id: 'f-routes', type: 'line', source: 'f-routes', layout: round,
                   paint: { 'line-color': ['get', 'color'],
                            'line-width': ['case', ['get', 'on'], 6, 3],
                            'line-opacity': ['case', ['get', 'on'], 1, 0.7] } });
    map.addLayer({ id: 'f-stations', type: 'circle', source: 'f-stations',
                   paint: { 'circle-radius': 11, 'circle-color': ['get', 'color'],
                            'circle-stroke-color': P.halo, 'circle-stroke-width': 2 } });
    map.addLayer({ id: 'f-station-rank', type: 'symbol', source: 'f-stations',
                   layout: { 'text-field': ['to-string', ['get', 'rank']],
                             'text-font': ['Noto Sans CJK SC Regular'], 'text-size': 13,
                             'text-allow-overlap': true, 'text-ignore-placement': true },
                   paint: { 'text-color': P.halo } });
    map.addLayer({ id: 'f-start', type: 'circle', source: 'f-start',
                   paint: { 'circle-radius': 8, 'circle-color': P.start,
                            'circle-stroke-color': P.halo, 'circle-stroke-width': 3 } });
    filterType();
    F.ready = true;
  }, function (err) { status(String(err), true); });

  /* Route features drawn now (0 before an answer). */
  F.routeDrawn = function () {
    return map.getLayer('f-routes') ? map.queryRenderedFeatures({ layers: ['f-routes'] }).length : 0;
  };
  /* Resolves once the map has drawn what was asked for (tiles loaded, sources set). */
  F.idle = function () {
    return new Promise(function (resolve) {
      var done = false;
      function finish() { if (!done) { done = true; resolve(); } }
      map.once('idle', finish);
      map.triggerRepaint();
      (function poll(frames) {
        window.requestAnimationFrame(function () {
          if (frames > 1 && map.loaded() && map.areTilesLoaded()) { finish(); } else if (!done) { poll(frames + 1); }
        });
      }(0));
    });
  };
}());

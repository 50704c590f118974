/* The planners' map: layers from /layers, drawn from our /tiles endpoint. No CDN. */
(function () {
  'use strict';
  // Page settings come as JSON data (the page allows no inline script).
  var C = window.SC_CONFIG = JSON.parse(document.getElementById('sc-config').textContent);
  var S = C.strings;
  var T = C.lang === 'en'
    ? { coverage: 'Service circles', service_type: 'Service type', all_types: 'All types',
        minutes: 'Walking minutes', unreachable: 'unreachable' }
    : { coverage: '服务圈', service_type: '服务类型', all_types: '全部类型', minutes: '步行分钟',
        unreachable: '不可达', locked: '（受限）' };
  // Leaflet >= 1.8 dropped fakeStop, which Leaflet.VectorGrid 1.3 calls on clicks.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; return true; };
  }
  // The API key lives in sessionStorage: gone when the browser session ends. Keys an older
  // version kept in localStorage are removed.
  try { window.localStorage.removeItem('sc_api_key'); } catch (e) { /* storage disabled */ }
  var apiKey = window.sessionStorage.getItem('sc_api_key') || '';
  var role = null;

  function headers() { return apiKey ? { 'X-API-Key': apiKey } : {}; }
  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  var map = L.map('map', { zoomControl: true, maxZoom: 20 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(esc(S.attribution));
  if (C.basemap_url) {
    L.tileLayer(C.basemap_url, { maxZoom: 19, attribution: esc(S.attribution) }).addTo(map);
  }
  // Point layers get their own pane inside the tile pane, stacked above the area layers.
  map.createPane('scPoints', map.getPane('tilePane')).style.zIndex = 10;
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  if (C.bounds) { map.fitBounds(C.bounds); } else { map.setView([28.25, 117.2], 12); }

  var iconCache = {};
  function glyphIcon(color, glyph) {
    var k = color + glyph;
    if (!iconCache[k]) {
      var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22">' +
        '<circle cx="11" cy="11" r="10" fill="' + color + '" stroke="#fff" stroke-width="2"/>' +
        '<text x="11" y="15" font-size="12" text-anchor="middle" fill="#fff" ' +
        'font-family="Noto Sans CJK SC, sans-serif">' + esc(glyph) + '</text></svg>';
      iconCache[k] = L.icon({ iconUrl: 'data:image/svg+xml;charset=utf-8,' +
        encodeURIComponent(svg), iconSize: [22, 22], iconAnchor: [11, 11] });
    }
    return iconCache[k];
  }

  function classFor(style, props) {
    if (!style.property || !style.classes.length) { return null; }
    var v = props[style.property], found = null;
    style.classes.forEach(function (c) {
      if (style.classify === 'categorical' && String(c.value) === String(v)) { found = c; }
      if (style.classify === 'graduated' && v !== null && v !== undefined &&
          Number(v) >= Number(c.value)) { found = c; }
    });
    return found;
  }

  // Graduated point symbols: area proportional to the value (e.g. residents reached).
  function sized(st) { return st.kind === 'circle' && st.classify === 'graduated' && st.property; }
  function radiusFor(st, v) {
    var n = Number(v);
    if (!isFinite(n) || n <= 0) { return 3; }
    return Math.min(24, 3 + Math.sqrt(n / 1000) * 2.2);
  }
  function symbolRadius(st, props) {
    return sized(st) ? radiusFor(st, props[st.property]) : st.radius;
  }

  function styleFn(layer) {
    var st = layer.style;
    return function (props) {
      var c = classFor(st, props), col = c ? c.color : st.color;
      if (st.kind === 'fill') {
        return { fill: true, fillColor: col, fillOpacity: st.fill_opacity, weight: st.weight,
                 color: st.property ? '#666' : st.color, opacity: 0.9 };
      }
      if (st.kind === 'line') { return { color: col, weight: st.weight, opacity: 0.9 }; }
      if (c && c.icon) { return { icon: glyphIcon(col, c.icon) }; }
      return { radius: symbolRadius(st, props), fill: true, fillColor: col, fillOpacity: st.fill_opacity,
               color: '#fff', weight: 1 };
    };
  }

  // Internal identifiers mean nothing to planners: not shown in popups.
  var HIDDEN = /(^|_)id$|^h3$|^fid$|^station_[ab]$|^label_(zh|en)$/;
  var PERCENT = /(^|_)share(_|$)|^score$|^jaccard$|closure_rate/;
  var fmtNum = new Intl.NumberFormat(C.lang === 'en' ? 'en' : 'zh-CN', { maximumFractionDigits: 1 });
  function formatValue(layer, k, v) {
    if (v === null || v === undefined || v === '') { return '–'; }
    var labels = (layer.value_labels || {})[k];
    if (labels && labels[String(v)] !== undefined) { return labels[String(v)]; }
    if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && !/_at$/.test(k))) {
      var n = Number(v);
      if (!isFinite(n)) { return T.unreachable; }
      if (PERCENT.test(k)) { return fmtNum.format(100 * n) + ' %'; }
      return fmtNum.format(n);
    }
    if (typeof v === 'string' && /_at$/.test(k)) { return v.replace('T', ' ').slice(0, 16); }
    return v;
  }
  function popupHtml(layer, props) {
    var st = layer.style, lp = st.label_property;
    var title = (lp && props[lp] !== undefined && !HIDDEN.test(lp)) ? formatValue(layer, lp, props[lp]) : layer.title;
    var c = classFor(st, props);
    var rows = Object.keys(props).filter(function (k) { return !HIDDEN.test(k); }).map(function (k) {
      var v = formatValue(layer, k, props[k]);
      if (c && k === st.property && st.classify === 'categorical' && v === props[k]) { v = c.label; }
      var label = (layer.property_labels || {})[k] || k;
      return '<tr><td>' + esc(label) + '</td><td>' + esc(v) + '</td></tr>';
    }).join('');
    return '<div class="popup"><strong>' + esc(title) + '</strong><br><small>' +
      esc(layer.title) + '</small><table>' + rows + '</table></div>';
  }

  // Coverage selectors: service type and minutes, sent to the tile server as filters.
  var sel = { service_type: 'party_mass_centre', minutes: 15 };
  function tileUrl(layer) {
    var q = C.city ? ['city=' + encodeURIComponent(C.city)] : [];
    Object.keys(layer.filters || {}).forEach(function (k) {
      var v = sel[k];
      if (v !== null && v !== undefined && v !== '' &&
          layer.filters[k].map(String).indexOf(String(v)) >= 0) {
        q.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
      }
    });
    return layer.tiles + (q.length ? '?' + q.join('&') : '');
  }

  function makeOverlay(layer) {
    var url = tileUrl(layer);
    var styles = {};
    styles[layer.name] = styleFn(layer);
    var vg = L.vectorGrid.protobuf(url, {
      vectorTileLayerStyles: styles, interactive: true, minZoom: layer.minzoom,
      maxNativeZoom: layer.maxzoom, maxZoom: 20, fetchOptions: { headers: headers() },
      scGroup: layer.group,
      getFeatureId: function (f) { return f.id; },  // keeps drawn features reachable
      pane: /Point/.test(layer.geometry_type) ? 'scPoints' : 'tilePane',  // points above areas
      rendererFactory: L.svg.tile
    });
    vg.on('click', function (e) {
      if (window.SC.dropping) { return; }  // the siting panel is placing sites
      L.popup({ maxWidth: 320 }).setLatLng(e.latlng)
        .setContent(popupHtml(layer, e.layer.properties || {})).openOn(map);
    });
    return vg;
  }

  var legend = L.control({ position: 'bottomright' });
  legend.onAdd = function () {
    this._div = L.DomUtil.create('div', 'legend sc-legend');
    L.DomEvent.disableScrollPropagation(this._div);
    return this._div;
  };
  legend.addTo(map);

  var state = { layers: [], overlays: {} };
  function renderLegend() {
    var html = '<h4>' + esc(S.legend) + '</h4>';
    state.layers.forEach(function (layer) {
      var ov = state.overlays[layer.name];
      if (ov && !map.hasLayer(ov)) { return; }
      if (!ov) {
        html += '<h5>' + esc(layer.title) + ' <span class="lock">' + esc(T.locked) + '</span></h5><div class="row"><small>' +
          esc(S.restricted) + '</small></div>';
        return;
      }
      html += '<h5>' + esc(layer.title) + '</h5>';
      var st = layer.style;
      var classes = st.classes.length ? st.classes : [{ color: st.color, label: layer.title }];
      var chosen = (layer.filters || {})[st.property] ? sel[st.property] : null;
      if (chosen) {  // a selector narrows the layer to one class: show only that one
        classes = classes.filter(function (c) { return String(c.value) === String(chosen); });
      }
      classes.forEach(function (c) {
        var d = sized(st) ? Math.round(2 * radiusFor(st, Math.max(Number(c.value), 500))) : 16;
        var sw = (st.kind === 'circle')
          ? '<span class="pt" style="background:' + esc(c.color) + ';width:' + d + 'px;height:' + d +
            'px">' + esc(c.icon || '') + '</span>'
          : '<span class="sw" style="background:' + esc(c.color) + '"></span>';
        html += '<div class="row">' + sw + esc(c.label) + '</div>';
      });
    });
    legend._div.innerHTML = html;
  }

  function build(catalogue) {
    var groups = catalogue.groups || {};
    var Grouped = L.Control.Layers.extend({
      _update: function () {
        this._lastGroup = null;
        return L.Control.Layers.prototype._update.call(this);
      },
      _addItem: function (obj) {
        var g = obj.layer.options.scGroup;
        if (obj.overlay && g && g !== this._lastGroup) {
          this._lastGroup = g;
          L.DomUtil.create('div', 'sc-group', this._overlaysList).textContent = groups[g] || g;
        }
        return L.Control.Layers.prototype._addItem.call(this, obj);
      }
    });
    var control = new Grouped(null, {}, { collapsed: false, position: 'topright' });
    state.layers = catalogue.layers.filter(function (l) { return l.available !== false; });
    state.layers.forEach(function (layer) {
      if (!layer.public && role !== 'analyst' && role !== 'admin') { return; }
      var ov = makeOverlay(layer);
      state.overlays[layer.name] = ov;
      control.addOverlay(ov, esc(layer.title) + (layer.public ? '' : '<span class="lock">' + esc(T.locked) + '</span>'));
      if (layer.visible) { ov.addTo(map); }
    });
    control.addTo(map);
    map.on('overlayadd overlayremove', renderLegend);
    renderLegend();
    coverageControl();
    window.SC.catalogue = catalogue;
    window.SC.ready = true;
  }

  // One panel drives every coverage layer: tiles are re-requested with the chosen
  // service type; layers fixed to one threshold (circles_15/10/5, gaps_15/10/5) are
  // swapped for the variant of the chosen minutes.
  function coverageControl() {
    var typed = state.layers.filter(function (l) { return (l.filters || {}).service_type; });
    if (!typed.length) { return; }
    var codes = typed[0].filters.service_type, names = typed[0].value_labels.service_type || {};
    var minutes = [5, 10, 15];
    var box = L.DomUtil.create('div', 'legend sc-coverage');
    box.innerHTML = '<h4>' + esc(T.coverage) + '</h4>' +
      '<label>' + esc(T.service_type) + ' <select id="cov-type">' +
      '<option value="">' + esc(T.all_types) + '</option>' +
      codes.map(function (c) {
        return '<option value="' + esc(c) + '"' + (c === sel.service_type ? ' selected' : '') + '>' +
          esc(names[c] || c) + '</option>';
      }).join('') + '</select></label> ' +
      '<label>' + esc(T.minutes) + ' <select id="cov-min">' + minutes.map(function (m) {
        return '<option value="' + m + '"' + (m === sel.minutes ? ' selected' : '') + '>' + m + '</option>';
      }).join('') + '</select></label>';
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var ctl = L.control({ position: 'topleft' });
    ctl.onAdd = function () { return box; };
    ctl.addTo(map);
    function apply() {
      sel.service_type = box.querySelector('#cov-type').value;
      sel.minutes = Number(box.querySelector('#cov-min').value);
      var families = {};
      state.layers.forEach(function (l) {
        var m = /^(coverage_.*)_(\d+)$/.exec(l.name), ov = state.overlays[l.name];
        if (!m || !ov) { return; }
        var f = families[m[1]] = families[m[1]] || { on: false, members: {} };
        f.members[m[2]] = ov;
        if (map.hasLayer(ov)) { f.on = true; }
      });
      Object.keys(families).forEach(function (k) {
        var f = families[k];
        if (!f.on) { return; }
        Object.keys(f.members).forEach(function (m) {
          var ov = f.members[m], want = Number(m) === sel.minutes;
          if (want && !map.hasLayer(ov)) { ov.addTo(map); }
          if (!want && map.hasLayer(ov)) { map.removeLayer(ov); }
        });
      });
      state.layers.forEach(function (l) {
        var ov = state.overlays[l.name];
        if (ov && l.filters && Object.keys(l.filters).length) { ov.setUrl(tileUrl(l)); }
      });
      renderLegend();
    }
    box.querySelector('#cov-type').addEventListener('change', apply);
    box.querySelector('#cov-min').addEventListener('change', apply);
    window.SC.coverage = { apply: apply, selection: sel };
    // Only the chosen threshold's variant is shown when the map opens.
    apply();
  }

  window.SC = { map: map, state: state, ready: false };
  fetch('/keys/me', { headers: headers() })
    .then(function (r) { return r.ok ? r.json() : { role: null }; })
    .then(function (me) { role = me.role; })
    .catch(function () { role = null; })
    .then(function () { return fetch('/layers?lang=' + C.lang); })
    .then(function (r) { return r.json(); })
    .then(build);

  // City selector: reload the page framed on the chosen city.
  var citySel = document.getElementById('city');
  if (citySel) {
    citySel.addEventListener('change', function () {
      window.location.search = '?lang=' + encodeURIComponent(C.lang) + '&city=' +
        encodeURIComponent(citySel.value);
    });
  }

  // API key box (kept for this browser session only).
  var keyInput = document.getElementById('key');
  keyInput.value = apiKey;
  document.getElementById('keysave').addEventListener('click', function () {
    window.sessionStorage.setItem('sc_api_key', keyInput.value.trim());
    window.location.reload();
  });

  // Search by name across the layers the caller may read.
  var q = document.getElementById('q'), list = document.getElementById('results'), timer = null;
  document.getElementById('search').addEventListener('submit', function (e) { e.preventDefault(); });
  q.addEventListener('input', function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var text = q.value.trim();
      if (!text) { list.hidden = true; return; }
      var url = '/search?q=' + encodeURIComponent(text) + (C.city ? '&city=' + encodeURIComponent(C.city) : '');
      fetch(url, { headers: headers() }).then(function (r) { return r.json(); }).then(function (res) {
        var titles = {};
        state.layers.forEach(function (l) { titles[l.name] = l.title; });
        list.innerHTML = (res.results || []).map(function (f, i) {
          return '<li data-i="' + i + '">' + esc(f.name) + '<small>' + esc(titles[f.layer] || f.layer) + '</small></li>';
        }).join('') || '<li>' + esc(S.no_results) + '</li>';
        list.hidden = false;
        Array.prototype.forEach.call(list.querySelectorAll('li[data-i]'), function (li) {
          li.addEventListener('click', function () {
            var b = res.results[Number(li.getAttribute('data-i'))].bbox;
            map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 17 });
            list.hidden = true;
          });
        });
      });
    }, 250);
  });
}());

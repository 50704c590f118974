/* The planners' map: layers from /layers, drawn from our /tiles endpoint. No CDN. */
(function () {
  'use strict';
  var C = window.SC_CONFIG, S = C.strings;
  // Leaflet >= 1.8 dropped fakeStop, which Leaflet.VectorGrid 1.3 calls on clicks.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; return true; };
  }
  var apiKey = window.localStorage.getItem('sc_api_key') || '';
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
      return { radius: st.radius, fill: true, fillColor: col, fillOpacity: st.fill_opacity,
               color: '#fff', weight: 1 };
    };
  }

  function popupHtml(layer, props) {
    var st = layer.style, title = props[st.label_property] || layer.title;
    var c = classFor(st, props);
    var rows = Object.keys(props).map(function (k) {
      var v = props[k];
      if (c && k === st.property && st.classify === 'categorical') { v = c.label; }
      var label = (layer.property_labels || {})[k] || k;
      return '<tr><td>' + esc(label) + '</td><td>' + esc(v === null || v === undefined ? '–' : v) + '</td></tr>';
    }).join('');
    return '<div class="popup"><strong>' + esc(title) + '</strong><br><small>' +
      esc(layer.title) + '</small><table>' + rows + '</table></div>';
  }

  function makeOverlay(layer) {
    var url = layer.tiles + (C.city ? '?city=' + encodeURIComponent(C.city) : '');
    var styles = {};
    styles[layer.name] = styleFn(layer);
    var vg = L.vectorGrid.protobuf(url, {
      vectorTileLayerStyles: styles, interactive: true, minZoom: layer.minzoom,
      maxNativeZoom: layer.maxzoom, maxZoom: 20, fetchOptions: { headers: headers() },
      scGroup: layer.group,
      rendererFactory: L.svg.tile
    });
    vg.on('click', function (e) {
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
        html += '<h5>' + esc(layer.title) + ' 🔒</h5><div class="row"><small>' +
          esc(S.restricted) + '</small></div>';
        return;
      }
      html += '<h5>' + esc(layer.title) + '</h5>';
      var st = layer.style;
      var classes = st.classes.length ? st.classes : [{ color: st.color, label: layer.title }];
      classes.forEach(function (c) {
        var sw = (st.kind === 'circle')
          ? '<span class="pt" style="background:' + esc(c.color) + '">' + esc(c.icon || '') + '</span>'
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
      control.addOverlay(ov, esc(layer.title) + (layer.public ? '' : '<span class="lock">🔒</span>'));
      if (layer.visible) { ov.addTo(map); }
    });
    control.addTo(map);
    map.on('overlayadd overlayremove', renderLegend);
    renderLegend();
    window.SC.ready = true;
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

  // API key box (kept in this browser only).
  var keyInput = document.getElementById('key');
  keyInput.value = apiKey;
  document.getElementById('keysave').addEventListener('click', function () {
    window.localStorage.setItem('sc_api_key', keyInput.value.trim());
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

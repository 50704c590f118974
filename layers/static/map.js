/* The planners' map: layers from /layers, drawn from our /tiles endpoint. No CDN.
   Codes, labels, colours and thresholds come from /vocabulary (see common.js). */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, S = C.strings, esc = SC.esc;
  var T = SC.i18n({
    zh: { coverage: '服务圈', service_type: '服务类型', all_types: '全部类型', minutes: '步行分钟',
          unreachable: '不可达', locked: '（受限）' },
    en: { coverage: 'Service circles', service_type: 'Service type', all_types: 'All types',
          minutes: 'Walking minutes', unreachable: 'unreachable', locked: ' (restricted)' }
  });
  // Leaflet >= 1.8 dropped fakeStop, which Leaflet.VectorGrid 1.3 calls on clicks.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; return true; };
  }
  var role = null, vocab = null;

  var map = L.map('map', { zoomControl: true, maxZoom: 20 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(esc(S.attribution));
  if (C.basemap_url) {
    L.tileLayer(C.basemap_url, { maxZoom: 19, attribution: esc(S.attribution) }).addTo(map);
  }
  // Point layers get their own pane inside the tile pane, stacked above the area layers
  // (its z-index is set above theirs once the layer control has numbered them).
  var pointsPane = map.createPane('scPoints', map.getPane('tilePane'));
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  // The city's extent comes with the page (from the database); no city: the whole world.
  if (C.bounds) { map.fitBounds(C.bounds); } else { map.fitWorld(); }

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
  var R_MIN = 3, R_MAX = 24, R_PER_SQRT = 0.07;  // pixels; pixels per square root of the value
  function sized(st) { return st.kind === 'circle' && st.classify === 'graduated' && st.property; }
  function radiusFor(st, v) {
    var n = Number(v);
    if (!isFinite(n) || n <= 0) { return R_MIN; }
    return Math.min(R_MAX, R_MIN + Math.sqrt(n) * R_PER_SQRT);
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
      if (c && c.icon) { return { icon: SC.glyphIcon(col, c.icon) }; }
      return { radius: symbolRadius(st, props), fill: true, fillColor: col, fillOpacity: st.fill_opacity,
               color: '#fff', weight: 1 };
    };
  }

  // Internal identifiers mean nothing to planners: not shown in popups.
  var HIDDEN = /(^|_)id$|^h3$|^fid$|^station_[ab]$|^label_(zh|en)$/;
  var PERCENT = /(^|_)share(_|$)|^score$|^jaccard$|closure_rate/;
  function formatValue(layer, k, v) {
    if (v === null || v === undefined || v === '') { return '–'; }
    var term = vocab.label(k, v);  // service types (also those added), categories, statuses…
    if (term !== null) { return term; }
    var labels = (layer.value_labels || {})[k];
    if (labels && labels[String(v)] !== undefined) { return labels[String(v)]; }
    if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && !/_at$/.test(k))) {
      var n = Number(v);
      if (!isFinite(n)) { return T.unreachable; }
      if (PERCENT.test(k)) { return SC.fmt.percent(n); }
      return SC.fmt.number(n);
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

  // Coverage selectors: service type and minutes, sent to the tile server as filters of
  // the layers declaring them (the first type and the life circle when the map opens).
  var sel = {};
  function tileUrl(layer) {
    var q = C.city ? ['city=' + encodeURIComponent(C.city)] : [];
    Object.keys(layer.filters || {}).forEach(function (k) {
      var v = sel[k];
      if (v !== null && v !== undefined && v !== '') {
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
      maxNativeZoom: layer.maxzoom, maxZoom: 20, fetchOptions: { headers: SC.headers() },
      scGroup: layer.group,
      getFeatureId: function (f) { return f.id; },  // keeps drawn features reachable
      pane: /Point/.test(layer.geometry_type) ? 'scPoints' : 'tilePane',  // points above areas
      rendererFactory: L.svg.tile
    });
    vg.on('click', function (e) {
      if (SC.dropping) { return; }  // the siting panel is placing sites
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
      classes.forEach(function (c, i) {
        var d = sized(st) ? Math.round(2 * radiusFor(st, legendValue(classes, i))) : 16;
        var sw = (st.kind === 'circle')
          ? '<span class="pt" style="background:' + esc(c.color) + ';width:' + d + 'px;height:' + d +
            'px">' + esc(c.icon || '') + '</span>'
          : '<span class="sw" style="background:' + esc(c.color) + '"></span>';
        html += '<div class="row">' + sw + esc(c.label) + '</div>';
      });
    });
    legend._div.innerHTML = html;
  }

  // The value a graduated class's legend symbol stands for: its lower bound, or half the
  // next one for a class starting at zero.
  function legendValue(classes, i) {
    var v = Number(classes[i].value);
    return v > 0 || !classes[i + 1] ? v : Number(classes[i + 1].value) / 2;
  }

  // Categorical styles on a vocabulary column (service type, case category) take their
  // classes from the vocabulary: the same colours, plus the service types added later.
  function withVocabulary(layer) {
    var st = layer.style, classes = st.classify === 'categorical' && vocab.classes(st.property);
    if (classes) { st.classes = classes; }
    return layer;
  }

  function build(catalogue) {
    var groups = catalogue.groups || {};
    var types = vocab.service_types;
    sel.service_type = types.length ? types[0].code : '';
    sel.minutes = vocab.defaults.minutes;
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
    state.layers = catalogue.layers.filter(function (l) { return l.available !== false; })
      .map(withVocabulary);
    state.layers.forEach(function (layer) {
      if (!layer.public && role !== 'analyst' && role !== 'admin') { return; }
      var ov = makeOverlay(layer);
      state.overlays[layer.name] = ov;
      control.addOverlay(ov, esc(layer.title) + (layer.public ? '' : '<span class="lock">' + esc(T.locked) + '</span>'));
      if (layer.visible) { ov.addTo(map); }
    });
    control.addTo(map);
    pointsPane.style.zIndex = String(state.layers.length + 1);
    map.on('overlayadd overlayremove', renderLegend);
    renderLegend();
    coverageControl();
    SC.catalogue = catalogue;
    SC.vocab = vocab;
    SC.setReady();
  }

  // One panel drives every coverage layer: tiles are re-requested with the chosen
  // service type (any of the vocabulary, also those added later); layers fixed to one
  // threshold (coverage_circles_<minutes>, coverage_gaps_<minutes>) are swapped for the
  // variant of the chosen minutes.
  function coverageControl() {
    var typed = state.layers.filter(function (l) { return (l.filters || {}).service_type; });
    if (!typed.length) { return; }
    var minutes = vocab.thresholds.walk_minutes;
    var box = L.DomUtil.create('div', 'legend sc-coverage');
    box.innerHTML = '<h4>' + esc(T.coverage) + '</h4>' +
      '<label>' + esc(T.service_type) + ' <select id="cov-type">' +
      '<option value="">' + esc(T.all_types) + '</option>' +
      vocab.service_types.map(function (t) {
        return '<option value="' + esc(t.code) + '"' + (t.code === sel.service_type ? ' selected' : '') +
          '>' + esc(t.label) + '</option>';
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
    SC.coverage = { apply: apply, selection: sel };
    // Only the chosen threshold's variant is shown when the map opens.
    apply();
  }

  SC.map = map;
  SC.state = state;
  Promise.all([
    SC.request('/keys/me').then(function (res) { return res[0] ? res[1].role : null; },
                                function () { return null; }),
    SC.request('/layers?lang=' + SC.lang),
    SC.vocabulary
  ]).then(function (res) {
    role = res[0];
    vocab = res[2];
    build(res[1][1]);
  });

  // City selector: reload the page framed on the chosen city.
  var citySel = document.getElementById('city');
  if (citySel) {
    citySel.addEventListener('change', function () {
      window.location.search = '?lang=' + encodeURIComponent(SC.lang) + '&city=' +
        encodeURIComponent(citySel.value);
    });
  }

  // API key box (kept for this browser session only).
  var keyInput = document.getElementById('key');
  keyInput.value = SC.apiKey();
  document.getElementById('keysave').addEventListener('click', function () {
    SC.saveApiKey(keyInput.value.trim());
    window.location.reload();
  });

  // Search by name across the layers the caller may read (after a pause in typing).
  var SEARCH_DELAY_MS = 200;
  var q = document.getElementById('q'), list = document.getElementById('results'), timer = null;
  document.getElementById('search').addEventListener('submit', function (e) { e.preventDefault(); });
  q.addEventListener('input', function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var text = q.value.trim();
      if (!text) { list.hidden = true; return; }
      var url = '/search?q=' + encodeURIComponent(text) + (C.city ? '&city=' + encodeURIComponent(C.city) : '');
      SC.request(url).then(function (answer) {
        var res = answer[1];
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
    }, SEARCH_DELAY_MS);
  });
}());

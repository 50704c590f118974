/* The planners' map: MapLibre GL JS drawing the city's style (/map/style.json, built from
   the layer catalogue), with panels for coverage, layers, legend and popups. No CDN.
   Codes, labels, colours and thresholds come from /vocabulary and /layers (see common.js). */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, S = C.strings, esc = SC.esc;
  var T = SC.i18n({
    zh: { coverage: '服务圈', service_type: '服务类型', all_types: '全部类型', minutes: '步行分钟',
          unreachable: '不可达', locked: '（受限）', layers: '图层', legend: '图例', panel: '图层',
          none_on: '未打开任何图层', serves: '服务对象', m_per_min: '米/分钟',
          muted: '为使每种颜色只有一种含义，已关闭：', sep: '、' },
    en: { coverage: 'Service circles', service_type: 'Service type', all_types: 'All types',
          minutes: 'Walking minutes', unreachable: 'unreachable', locked: ' (restricted)',
          layers: 'Layers', legend: 'Legend', panel: 'Layers', none_on: 'No layer is on',
          serves: 'Serves', m_per_min: 'm/min',
          muted: 'Turned off so that each colour has one meaning: ', sep: ', ' }
  });
  var role = null, vocab = null;
  var state = { layers: [], byName: {}, groups: {} };
  var popups = SC.popups = {};  // popup makers of layers the panels add (by style layer id)

  /* ---- the map ------------------------------------------------------------------- */
  var origin = window.location.origin;
  maplibregl.setWorkerUrl(C.worker);
  function makeMap() {
    var opts = {
      container: 'map', style: C.style, attributionControl: false, maxZoom: 20,
      hash: 'map',  // #map=zoom/lat/lon: the position travels with a link (views.js: the rest)
      localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', sans-serif",
      transformRequest: function (url) {  // our own tiles and style carry the key
        return url.indexOf(origin) === 0 || url.charAt(0) === '/'
          ? { url: url, headers: SC.headers() } : { url: url };
      }
    };
    // The city's extent comes with the page (from the database); no city: the world.
    if (C.bounds) {
      opts.bounds = [[C.bounds[0][1], C.bounds[0][0]], [C.bounds[1][1], C.bounds[1][0]]];
      opts.fitBoundsOptions = { padding: 20 };
    } else { opts.center = [0, 0]; opts.zoom = 1; }
    var m = new maplibregl.Map(opts);
    // A key revoked while the page is open: tiles answer 401; drop the key, say so, and
    // load the public layers again without it.
    m.on('error', function (e) {
      if (!e.error || e.error.status !== 401 || SC.keyRefused) { return; }
      refuseKey();
      Object.keys(m.getStyle().sources).forEach(function (id) {
        var src = m.getSource(id);
        if (src && src.setTiles && src.tiles) {
          src.setTiles(asked.has(src) ? [asked.get(src)] : src.tiles.slice());
        }
      });
    });
    m.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    m.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    m.addControl(new maplibregl.AttributionControl({ compact: false,
                                                     customAttribution: esc(S.attribution) }),
                 'bottom-right');
    return m;
  }

  /* GCJ-02 basemaps (高德, 腾讯): the style's raster source asks for gcj02://z/x/y; the
     tile is cut out of the provider's tiles moved by the city's GCJ-02 shift (style
     metadata sc:gcj02_shift, degrees east/north), so that they sit on our WGS-84 data.
     gcjWindow(z, x, y, shift) → the provider tiles [tx, ty, left, top] drawn at left/top. */
  var TILE_PX = 256;
  function mercY(lat) { return Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360)); }
  function gcjWindow(z, x, y, shift) {
    var world = TILE_PX * Math.pow(2, z);
    // latitude of the tile's centre, for the northward shift in pixels
    var n = Math.PI - 2 * Math.PI * (y + 0.5) / Math.pow(2, z);
    var lat = 180 / Math.PI * Math.atan(Math.sinh(n));
    var gx = x * TILE_PX + shift[0] / 360 * world;
    var gy = y * TILE_PX - (mercY(lat + shift[1]) - mercY(lat)) / (2 * Math.PI) * world;
    var out = [];
    for (var tx = Math.floor(gx / TILE_PX); tx * TILE_PX < gx + TILE_PX; tx++) {
      for (var ty = Math.floor(gy / TILE_PX); ty * TILE_PX < gy + TILE_PX; ty++) {
        out.push([tx, ty, Math.round(tx * TILE_PX - gx), Math.round(ty * TILE_PX - gy)]);
      }
    }
    return out;
  }
  SC.gcjWindow = gcjWindow;
  maplibregl.addProtocol('gcj02', function (params, abort) {
    var meta = SC.map.getStyle().metadata || {}, shift = meta['sc:gcj02_shift'] || [0, 0];
    var zxy = params.url.split('://')[1].split('/').map(Number), z = zxy[0];
    var templates = meta['sc:gcj02_tiles'] || [];
    var parts = gcjWindow(z, zxy[1], zxy[2], shift).map(function (p) {
      var y = meta['sc:gcj02_tms'] ? Math.pow(2, z) - 1 - p[1] : p[1];
      var url = templates[0].replace('{z}', z).replace('{x}', p[0]).replace('{y}', y);
      return SC.image(url, abort).then(function (img) { return [img, p]; }, function () { return null; });
    });
    return Promise.all(parts).then(function (drawn) {
      var canvas = document.createElement('canvas');
      canvas.width = canvas.height = TILE_PX;
      var g = canvas.getContext('2d');
      drawn.forEach(function (d) { if (d) { g.drawImage(d[0], d[1][2], d[1][3]); } });
      return new Promise(function (resolve) { canvas.toBlob(resolve); });
    }).then(function (blob) { return blob.arrayBuffer(); }).then(function (data) { return { data: data }; });
  });

  /* Style layers drawing catalogue layer ``name`` (main, outline, glyph). */
  function styleLayers(name) {
    return SC.map.getStyle().layers.filter(function (l) {
      return l.metadata && l.metadata['sc:layer'] === name && l.metadata['sc:part'] !== 'basemap';
    }).map(function (l) { return l.id; });
  }
  function isOn(name) {
    return !!SC.map.getLayer(name) && SC.map.getLayoutProperty(name, 'visibility') !== 'none';
  }
  /* One colour meaning per map: area layers coloured by classes mean either a vocabulary
     term (service type, case category — the same colours everywhere) or their own ramp;
     turning one on turns off those of another meaning. Points keep their symbols. */
  function meaning(layer) {
    var st = layer && layer.style;
    if (!st || !st.classes || !st.classes.length || st.kind === 'circle') { return null; }
    return ((vocab && vocab.raw.columns) || {})[st.property] || 'layer:' + layer.name;
  }
  var muted = [];
  function oneMeaning(name) { claim(meaning(state.byName[name])); }
  /* Turn off the area layers of another colour meaning than ``m`` (a panel drawing its own
     areas claims the map's colours too: SC.claimColours). */
  function claim(m) {
    if (!m) { return; }
    var off = state.layers.filter(function (l) {
      var other = meaning(l);
      return l.drawn && other && other !== m && isOn(l.name);
    });
    off.forEach(function (l) { setOn(l.name, false); });
    muted = off.map(function (l) { return l.title; });  // said in the legend until the next claim
    renderLegend();
    window.dispatchEvent(new CustomEvent('sc:colours', { detail: m }));  // panels' own areas
  }
  SC.claimColours = claim;
  function setOn(name, on) {
    if (on) { oneMeaning(name); }
    styleLayers(name).forEach(function (id) {
      SC.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    });
    var box = document.querySelector('#layers input[data-layer="' + name + '"]');
    if (box) {
      box.checked = on;
      if (on) { box.closest('details').open = true; }  // a layer that is on shows in the list
    }
    renderLegend();
    renderCounts();
    changed('layers');
  }
  /* Tell the other panels (numbers, views) what changed: 'layers' or 'selection'. */
  function changed(what) {
    window.dispatchEvent(new CustomEvent('sc:change', { detail: what }));
  }
  SC.changed = changed;
  /* Names of the catalogue layers shown now. */
  function onNames() {
    return state.layers.filter(function (l) { return l.drawn && isOn(l.name); })
      .map(function (l) { return l.name; });
  }

  /* ---- popups -------------------------------------------------------------------- */
  // Internal identifiers mean nothing to planners: not shown in popups.
  var HIDDEN = /(^|_)id$|^h3$|^fid$|^station_[ab]$|^label_(zh|en)$/;
  var PERCENT = /(^|_)share(_|$)|^score$|^jaccard$|closure_rate/;
  function formatValue(layer, k, v) {
    if (v === null || v === undefined || v === '') { return '–'; }
    var term = vocab.label(k, v);  // service types (also those added), categories, statuses…
    if (term !== null) { return term; }
    var labels = (layer.value_labels || {})[k];
    if (labels && labels[String(v)] !== undefined) { return labels[String(v)]; }
    if (typeof v === 'boolean' && labels && labels[String(v)] !== undefined) { return labels[String(v)]; }
    if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && !/_at$/.test(k))) {
      var n = Number(v);
      if (!isFinite(n)) { return T.unreachable; }
      if (PERCENT.test(k)) { return SC.fmt.percent(n); }
      if ((layer.whole_properties || []).indexOf(k) >= 0) { return SC.fmt.whole(n); }
      return SC.fmt.number(n);
    }
    if (typeof v === 'string' && /_at$/.test(k)) { return v.replace('T', ' ').slice(0, 16); }
    return v;
  }
  function popupHtml(layer, props) {
    var st = layer.style, lp = st.label_property;
    var title = (lp && props[lp] !== undefined && !HIDDEN.test(lp)) ? formatValue(layer, lp, props[lp]) : layer.title;
    var rows = (layer.properties || Object.keys(props)).filter(function (k) {
      return !HIDDEN.test(k) && props[k] !== undefined;
    }).map(function (k) {
      var label = (layer.property_labels || {})[k] || k;
      return '<tr><td>' + esc(label) + '</td><td>' + esc(formatValue(layer, k, props[k])) + '</td></tr>';
    }).join('');
    return '<div class="popup"><strong>' + esc(title) + '</strong><br><small>' +
      esc(layer.title) + '</small><table>' + rows + '</table></div>';
  }
  /* The feature a click means: a point (station, site) before anything else, then the
     smallest area or line under the cursor (a compound inside a catchment is the compound). */
  function extentOf(g) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    (function walk(c) {
      if (typeof c[0] === 'number') {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      } else { c.forEach(walk); }
    }(g.coordinates));
    return (b[2] - b[0]) * (b[3] - b[1]);
  }
  function pick(features) {
    var best = null, bestKey = null;
    features.forEach(function (f, i) {
      var key = [/Point/.test(f.geometry.type) ? 0 : 1, extentOf(f.geometry), i];
      if (!best || key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = f; bestKey = key;
      }
    });
    return best;
  }
  function onClick(e) {
    if (SC.dropping) { return; }  // the siting panel is placing sites
    var feats = SC.map.queryRenderedFeatures(e.point).filter(function (f) {
      var m = f.layer.metadata || {};
      return m['sc:part'] !== 'basemap' && (state.byName[m['sc:layer']] || popups[f.layer.id]);
    });
    var f = pick(feats);
    if (!f) { return; }
    var html = popups[f.layer.id] ? popups[f.layer.id](f.properties)
      : popupHtml(state.byName[f.layer.metadata['sc:layer']], f.properties);
    new maplibregl.Popup({ maxWidth: '320px' }).setLngLat(e.lngLat).setHTML(html).addTo(SC.map);
  }

  /* ---- legend --------------------------------------------------------------------- */
  var legendBox = null;
  // Graduated point symbols: the style's radius for the class's value (see layers/maplibre.py).
  function legendDiameter(layer, classes, i) {
    var st = layer.style, g = layer.symbol || {};
    if (!(st.kind === 'circle' && st.classify === 'graduated' && g.per_sqrt)) { return 16; }
    var v = Number(classes[i].value);
    if (!(v > 0) && classes[i + 1]) { v = Number(classes[i + 1].value) / 2; }
    return Math.round(2 * Math.min(g.max, g.min + Math.sqrt(Math.max(0, v)) * g.per_sqrt));
  }
  function renderLegend() {
    if (!legendBox) { return; }
    var html = '';
    state.layers.forEach(function (layer) {
      if (!layer.drawn || layer.group === 'basemap' || !isOn(layer.name)) { return; }
      html += '<h5>' + esc(layer.title) + '</h5>';
      var st = layer.style;
      var classes = st.classes.length ? st.classes : [{ color: st.color, label: layer.title }];
      var chosen = (layer.filters || {})[st.property] ? sel[st.property] : null;
      if (chosen) {  // a selector narrows the layer to one class: show only that one
        classes = classes.filter(function (c) { return String(c.value) === String(chosen); });
      }
      classes.forEach(function (c, i) {
        var d = legendDiameter(layer, classes, i);
        var sw = (st.kind === 'circle')
          ? '<span class="pt" style="background:' + esc(c.color) + ';width:' + d + 'px;height:' + d +
            'px">' + esc(c.icon || '') + '</span>'
          : (st.kind === 'line' ? '<span class="ln" style="background:' + esc(c.color) + '"></span>'
            : '<span class="sw" style="background:' + esc(c.color) + '"></span>');
        html += '<div class="row">' + sw + esc(c.label || layer.title) + '</div>';
      });
    });
    if (muted.length) {
      html += '<small class="sc-muted">' + esc(T.muted) + esc(muted.join(T.sep)) + '</small>';
    }
    legendBox.innerHTML = html || '<small>' + esc(T.none_on) + '</small>';
  }

  // Categorical styles on a vocabulary column (service type, case category) take their
  // classes from the vocabulary: the same colours, plus the service types added later.
  function withVocabulary(layer) {
    var st = layer.style, classes = st.classify === 'categorical' && vocab.classes(st.property);
    if (classes) { st.classes = classes; }
    return layer;
  }

  /* ---- layer list: groups, collapsible; a group with a layer on starts open ---------- */
  function renderCounts() {
    Array.prototype.forEach.call(document.querySelectorAll('#layers details.sc-group'), function (d) {
      var n = d.querySelectorAll('input[data-layer]:checked').length;
      d.querySelector('.n').textContent = n ? String(n) : '';
    });
  }
  function layerList(catalogue, body) {
    var groups = catalogue.groups || {}, order = [];
    // only the layers the caller may read (the style holds no others)
    var listed = state.layers.filter(function (l) { return l.drawn; });
    listed.forEach(function (l) { if (order.indexOf(l.group) < 0) { order.push(l.group); } });
    body.id = 'layers';
    body.innerHTML = order.map(function (g) {
      var members = listed.filter(function (l) { return l.group === g; });
      var open = members.some(function (l) { return l.drawn && isOn(l.name); });
      return '<details class="sc-group" data-group="' + esc(g) + '"' + (open ? ' open' : '') +
        '><summary>' + esc(groups[g] || g) + ' <span class="n"></span></summary>' +
        members.map(function (l) {
          return '<label class="sc-layer" title="' + esc(l.description || '') + '">' +
            '<input type="checkbox" data-layer="' + esc(l.name) + '"' + (isOn(l.name) ? ' checked' : '') + '> ' +
            esc(l.title) + (l.public ? '' : '<span class="lock">' + esc(T.locked) + '</span>') + '</label>';
        }).join('') + '</details>';
    }).join('');
    Array.prototype.forEach.call(body.querySelectorAll('input[data-layer]'), function (box) {
      box.addEventListener('change', function () { setOn(box.getAttribute('data-layer'), box.checked); });
    });
    renderCounts();
  }

  /* ---- coverage selectors ---------------------------------------------------------- */
  // One panel drives every coverage layer: tiles are re-requested with the chosen
  // service type (any of the vocabulary, also those added later); layers fixed to one
  // threshold (coverage_circles_<minutes>, coverage_gaps_<minutes>) are swapped for the
  // variant of the chosen minutes.
  // Layers of coverage runs (catalogue ``moments``) are drawn from the run of the moment
  // chosen in the time control (sel.at, set by openat.js once that run is known to exist;
  // null: the all-day run).
  var sel = { at: null };
  function tileUrl(layer) {
    var q = C.city ? ['city=' + encodeURIComponent(C.city)] : [];
    Object.keys(layer.filters || {}).forEach(function (k) {
      var v = sel[k];
      if (v !== null && v !== undefined && v !== '') {
        q.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
      }
    });
    if (layer.moments && sel.at && C.city) { q.push('at=' + encodeURIComponent(sel.at)); }
    return layer.tiles + (q.length ? '?' + q.join('&') : '');
  }
  /* Point a source at new tile URLs and reload the tiles already in view once the source
     has taken them (setTiles alone can leave tiles of the old URL drawn when it comes while
     those tiles are still loading). A source takes new URLs asynchronously (src.tiles
     changes only once it has reloaded), so the URL last asked of each source is kept:
     asking back the URL still shown while another is loading must not be skipped. */
  var asked = new WeakMap();
  function retile(id, url, layer) {
    var src = SC.map.getSource(id);
    if (!src) { return; }
    var last = asked.has(src) ? asked.get(src) : src.tiles && src.tiles.length === 1 && src.tiles[0];
    if (last === url) { return; }
    asked.set(src, url);
    function taken(e) {
      if (e.sourceId !== id || e.sourceDataType !== 'metadata') { return; }
      SC.map.off('sourcedata', taken);
      SC.map.refreshTiles(id);
    }
    // once drawn: features still of another selection mean stale tiles; reload them
    var tries = 3;
    function check() {
      if (SC.map.getSource(id) !== src || !src.tiles || src.tiles[0] !== url) { return; }
      var keys = Object.keys(layer.filters || {}), stale = SC.map.getLayer(id) &&
        SC.map.queryRenderedFeatures({ layers: [id] }).some(function (f) {
          return keys.some(function (k) {
            var v = sel[k];
            return v !== null && v !== undefined && v !== '' && f.properties[k] !== undefined &&
              String(f.properties[k]) !== String(v);
          });
        });
      if (stale && tries-- > 0) { SC.map.refreshTiles(id); SC.map.once('idle', check); }
    }
    SC.map.on('sourcedata', taken);
    src.setTiles([url]);
    SC.map.once('idle', check);
  }
  function coverageControl(body) {
    var minutes = vocab.thresholds.walk_minutes;
    body.classList.add('sc-coverage');
    body.innerHTML =
      '<label>' + esc(T.service_type) + ' <select id="cov-type">' +
      '<option value="">' + esc(T.all_types) + '</option>' +
      vocab.service_types.map(function (t) {
        return '<option value="' + esc(t.code) + '"' + (t.code === sel.service_type ? ' selected' : '') +
          '>' + esc(t.label) + '</option>';
      }).join('') + '</select></label> ' +
      '<label>' + esc(T.minutes) + ' <select id="cov-min">' + minutes.map(function (m) {
        return '<option value="' + m + '"' + (m === sel.minutes ? ' selected' : '') + '>' + m + '</option>';
      }).join('') + '</select></label><div id="cov-who"></div>';
    // whom the chosen type serves and at what walking speed (/vocabulary: walkers)
    function who() {
      var w = (vocab.raw.walkers || {})[sel.service_type];
      var g = w ? vocab.label('target_group', w.target_group) : null;
      body.querySelector('#cov-who').textContent = g ? T.serves + ': ' + g + ' · ' +
        w.speed_m_per_min + ' ' + T.m_per_min : '';
    }
    function apply() {
      sel.service_type = body.querySelector('#cov-type').value;
      sel.minutes = Number(body.querySelector('#cov-min').value);
      who();
      var families = {};
      state.layers.forEach(function (l) {
        var m = /^(coverage_.*)_(\d+)$/.exec(l.name);
        if (!m || !l.drawn) { return; }
        var f = families[m[1]] = families[m[1]] || { on: false, members: {} };
        f.members[m[2]] = l.name;
        if (isOn(l.name)) { f.on = true; }
      });
      Object.keys(families).forEach(function (k) {
        var f = families[k];
        if (!f.on) { return; }
        Object.keys(f.members).forEach(function (m) {
          var want = Number(m) === sel.minutes;
          if (want !== isOn(f.members[m])) { setOn(f.members[m], want); }
        });
      });
      state.layers.forEach(function (l) {
        var src = l.drawn && SC.map.getSource(l.name);
        if (src && (l.moments || (l.filters && Object.keys(l.filters).length))) {
          retile(l.name, tileUrl(l), l);
        }
      });
      renderLegend();
      changed('selection');
    }
    body.querySelector('#cov-type').addEventListener('change', apply);
    body.querySelector('#cov-min').addEventListener('change', apply);
    who();
    /* Choose type and minutes as the selectors would (views.js: a link's view). */
    function choose(type, minutes) {
      if (type !== undefined && type !== null) { body.querySelector('#cov-type').value = type; }
      if (minutes) { body.querySelector('#cov-min').value = String(minutes); }
      apply();
    }
    /* Draw the coverage layers (and the figures beside them) of the run of moment ``at``
       ('Mo 22:00'; null: all day). */
    function moment(at) {
      if ((at || null) === sel.at) { return; }
      sel.at = at || null;
      apply();
    }
    SC.coverage = { apply: apply, choose: choose, moment: moment, selection: sel };
  }

  /* ---- start ----------------------------------------------------------------------- */
  function build(catalogue) {
    var drawn = {};
    SC.map.getStyle().layers.forEach(function (l) {
      if (l.metadata && l.metadata['sc:layer']) { drawn[l.metadata['sc:layer']] = true; }
    });
    var symbol = (SC.map.getStyle().metadata || {})['sc:symbol'];
    state.groups = catalogue.groups || {};
    state.layers = catalogue.layers.filter(function (l) {
      return l.available !== false && l.group !== 'basemap';
    }).map(function (l) {
      l.drawn = !!drawn[l.name] && !!SC.map.getLayer(l.name);
      l.symbol = symbol;
      state.byName[l.name] = l;
      return withVocabulary(l);
    });
    var meta = SC.map.getStyle().metadata || {};
    var chosen = meta['sc:selection'] || {};
    sel.service_type = chosen.service_type || '';
    sel.minutes = chosen.minutes || vocab.defaults.minutes;
    coverageControl(SC.section('coverage', T.coverage, true));
    layerList(catalogue, SC.section('layers', T.layers, true));
    legendBox = SC.section('legend', T.legend, true);
    legendBox.classList.add('sc-legend');
    renderLegend();
    SC.map.on('click', onClick);
    SC.catalogue = catalogue;
    SC.vocab = vocab;
    SC.setReady();
  }

  /* The key: checked once; a refused key is dropped for this page with a visible message
     (public layers then load as for anyone). */
  function checkKey() {
    if (!SC.apiKey()) { return Promise.resolve(null); }
    return SC.request('/keys/me').then(function (res) {
      if (res[0]) { return res[1].role; }
      refuseKey();
      return null;
    }, function () { return null; });
  }
  function refuseKey() {
    SC.keyRefused = true;
    var msg = document.getElementById('keymsg');
    msg.textContent = S.bad_key;
    msg.hidden = false;
  }

  SC.state = state;
  SC.layerOn = isOn;
  SC.setLayer = setOn;
  SC.layersOn = onNames;
  /* Features drawn now by catalogue layer ``name`` (0 when it is off). */
  SC.drawn = function (name) {
    return isOn(name) ? SC.map.queryRenderedFeatures({ layers: [name] }).length : 0;
  };
  /* Page coordinates of (lat, lon). */
  SC.toPage = function (lat, lon) {
    var p = SC.map.project([lon, lat]), r = SC.map.getContainer().getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
  };
  /* Resolves once the map has drawn everything asked for so far (tiles loaded, labels
     placed): the next 'idle' after a repaint. */
  SC.idle = function () {
    return new Promise(function (resolve) {
      var done = false;
      function finish() { if (!done) { done = true; resolve(); } }
      SC.map.once('idle', finish);
      SC.map.triggerRepaint();
      (function poll(frames) {  // or: two frames later, everything loaded
        window.requestAnimationFrame(function () {
          if (frames > 1 && SC.map.loaded() && SC.map.areTilesLoaded()) { finish(); } else if (!done) { poll(frames + 1); }
        });
      }(0));
    });
  };
  SC.view = function (lat, lon, zoom) { SC.map.jumpTo({ center: [lon, lat], zoom: zoom }); };
  SC.pick = pick;
  SC.meaning = function (name) { return meaning(state.byName[name]); };

  checkKey().then(function (r) {
    role = r;
    SC.role = role;
    SC.map = makeMap();
    var styled = new Promise(function (resolve) { SC.map.once('load', resolve); });
    return Promise.all([SC.request('/layers?lang=' + SC.lang), SC.vocabulary, styled]);
  }).then(function (res) {
    vocab = res[1];
    build(res[0][1]);
  });

  // Phone layout: the panel is a drawer opened from the bar; the key box moves into it.
  var PHONE = window.matchMedia('(max-width: 700px)');
  SC.whenReady(function () {
    if (PHONE.matches) {
      var body = SC.section('key', S.key, false);
      body.appendChild(document.getElementById('keybox'));
    }
  });
  document.getElementById('drawer').addEventListener('click', function () {
    document.body.classList.toggle('drawer-open');
    if (SC.map) { window.setTimeout(function () { SC.map.resize(); }, 0); }
  });

  // City selector: reload the page framed on the chosen city.
  var citySel = document.getElementById('city');
  if (citySel) {
    citySel.addEventListener('change', function () {
      window.location.href = '?lang=' + encodeURIComponent(SC.lang) + '&city=' +
        encodeURIComponent(citySel.value) + (SC.viewHash ? SC.viewHash() : '');
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
  var SEARCH_DELAY_MS = 200, FOUND_MAX_ZOOM = 17;
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
            SC.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { maxZoom: FOUND_MAX_ZOOM, duration: 0 });
            list.hidden = true;
          });
        });
      });
    }, SEARCH_DELAY_MS);
  });
}());

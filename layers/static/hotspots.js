/* Grid-case hot spots on the planners' map, filtered by category and period. */
(function () {
  'use strict';
  var C = window.SC_CONFIG || {}, zh = C.lang !== 'en';
  var T = zh ? {
    title: '事件热点筛选', cats: '事件类别', from: '起始月份', to: '截止月份（含）', run: '查询',
    clear: '清除', loading: '正在计算热点…', city: '请在地址中加上 ?city=城市代码',
    cells: '格', hot: '热点', cold: '冷点', none: '所选条件下没有显著热点或冷点',
    pick: '请至少选择一个类别', error: '查询失败', hint: '选择类别和时段后点击“查询”',
    cases: '事件数'
  } : {
    title: 'Case hot spots', cats: 'Categories', from: 'From month', to: 'To month (incl.)',
    run: 'Show', clear: 'Clear', loading: 'Computing hot spots…',
    city: 'Add ?city=<code> to the address', cells: 'cells', hot: 'hot', cold: 'cold',
    none: 'No significant hot or cold spots for this selection', pick: 'Pick at least one category',
    error: 'Request failed', hint: 'Choose categories and a period, then Show', cases: 'Cases'
  };
  var FALLBACK_BINS = { 3: '#b2182b', 2: '#ef8a62', 1: '#fddbc7', 0: '#f7f7f7', '-1': '#d1e5f0',
    '-2': '#67a9cf', '-3': '#2166ac' };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function layerOf(cat, name) {
    return (cat.layers || []).filter(function (l) { return l.name === name; })[0];
  }
  // "2025-03" → "2025-04-01" (the window end is exclusive, the month inclusive).
  function nextMonth(m) {
    var y = Number(m.slice(0, 4)), mo = Number(m.slice(5, 7));
    if (mo === 12) { y += 1; mo = 1; } else { mo += 1; }
    return y + '-' + (mo < 10 ? '0' : '') + mo + '-01';
  }

  function start(map, cat) {
    var cases = layerOf(cat, 'grid_cases'), hs = layerOf(cat, 'case_hotspots');
    var categories = cases ? cases.style.classes : [];
    var bins = hs ? hs.style.classes : Object.keys(FALLBACK_BINS).map(function (b) {
      return { value: Number(b), color: FALLBACK_BINS[b], label: String(b) };
    });
    var colour = {};
    bins.forEach(function (b) { colour[String(b.value)] = b.color; });
    var box = L.DomUtil.create('details', 'legend sc-hotspots');
    box.open = true;
    box.innerHTML = '<summary><b>' + esc(T.title) + '</b></summary>' +
      '<div class="hs-cats" role="group" aria-label="' + esc(T.cats) + '">' +
      categories.map(function (c) {
        return '<label><input type="checkbox" name="hs-cat" value="' + esc(c.value) + '" checked>' +
          '<span class="sw" style="background:' + esc(c.color) + '"></span>' + esc(c.label) + '</label>';
      }).join('') + '</div>' +
      '<label>' + esc(T.from) + ' <input id="hs-start" type="month"></label><br>' +
      '<label>' + esc(T.to) + ' <input id="hs-end" type="month"></label><br>' +
      '<button id="hs-run" type="button">' + esc(T.run) + '</button> ' +
      '<button id="hs-clear" type="button">' + esc(T.clear) + '</button>' +
      '<div id="hs-status" role="status" aria-live="polite">' + esc(C.city ? T.hint : T.city) + '</div>' +
      '<div class="hs-legend">' + bins.map(function (b) {
        return '<div class="row"><span class="sw" style="background:' + esc(b.color) + '"></span>' +
          esc(b.label) + '</div>';
      }).join('') + '</div>';
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var ctl = L.control({ position: 'bottomleft' });
    ctl.onAdd = function () { return box; };
    ctl.addTo(map);
    var status = box.querySelector('#hs-status'), runBtn = box.querySelector('#hs-run');
    var drawn = null, seq = 0;

    function say(text, cls) { status.textContent = text; status.className = cls || ''; }
    function clear() {
      if (drawn) { map.removeLayer(drawn); drawn = null; }
    }

    function run() {
      if (!C.city) { say(T.city, 'error'); return; }
      var chosen = Array.prototype.filter.call(box.querySelectorAll('input[name=hs-cat]'),
        function (i) { return i.checked; }).map(function (i) { return i.value; });
      if (!chosen.length) { say(T.pick, 'error'); return; }
      var q = ['resolution=9'];
      if (chosen.length < categories.length) { q.push('categories=' + encodeURIComponent(chosen.join(','))); }
      var s = box.querySelector('#hs-start').value, e = box.querySelector('#hs-end').value;
      if (s) { q.push('start=' + s + '-01'); }
      if (e) { q.push('end=' + nextMonth(e)); }
      var mine = ++seq;
      runBtn.disabled = true;
      box.classList.add('loading');
      say(T.loading, 'loading');
      var key = window.sessionStorage.getItem('sc_api_key') || '';
      fetch('/cities/' + encodeURIComponent(C.city) + '/cases/hotspots?' + q.join('&'),
            { headers: key ? { 'X-API-Key': key } : {} })
        .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) {
          if (mine !== seq) { return; }
          var ok = res[0], j = res[1];
          if (!ok) {
            var why = (j.errors || []).map(function (p) { return p.reason; }).join('; ');
            say(T.error + ': ' + (j.detail || j.title || '') + (why ? ' (' + why + ')' : ''), 'error');
            return;
          }
          clear();
          // the stored (unfiltered) run would hide the filtered cells underneath
          var stored = window.SC.state.overlays.case_hotspots;
          if (stored && map.hasLayer(stored)) { map.removeLayer(stored); }
          var feats = j.features || [], hot = 0, cold = 0;
          feats.forEach(function (f) {
            var b = Number(f.properties.bin);
            if (b > 0) { hot += 1; } else if (b < 0) { cold += 1; }
          });
          drawn = L.geoJSON(j, {
            style: function (f) {
              var b = Number(f.properties.bin);
              return { fillColor: colour[String(b)] || '#ccc', fillOpacity: b === 0 ? 0.12 : 0.7,
                       color: '#777', weight: 0.4 };
            },
            onEachFeature: function (f, lyr) {
              var p = f.properties;
              lyr.bindPopup('<div class="popup"><strong>' + esc(zh ? p.label_zh : p.label_en) +
                '</strong>' + (p.n_cases !== undefined && p.n_cases !== null
                  ? '<br>' + esc(T.cases) + ': ' + esc(p.n_cases) : '') + '</div>');
            }
          }).addTo(map);
          say(feats.length + ' ' + T.cells + ' · ' + T.hot + ' ' + hot + ' · ' + T.cold + ' ' + cold +
              (hot + cold ? '' : ' — ' + T.none), 'done');
          window.SC.hotspots.last = { cells: feats.length, hot: hot, cold: cold, meta: j.meta };
        })
        .catch(function (err) {
          if (mine === seq) { say(T.error + ': ' + (err && err.message ? err.message : err), 'error'); }
        })
        .then(function () {
          if (mine === seq) { runBtn.disabled = false; box.classList.remove('loading'); }
        });
    }
    runBtn.addEventListener('click', run);
    box.querySelector('#hs-clear').addEventListener('click', function () {
      clear();
      seq += 1;
      say(T.hint);
      runBtn.disabled = false;
      box.classList.remove('loading');
    });
    window.SC.hotspots = { run: run, clear: clear, layer: function () { return drawn; }, last: null };
  }

  function wait() {
    if (window.SC && window.SC.ready && window.SC.catalogue) { start(window.SC.map, window.SC.catalogue); } else { window.setTimeout(wait, 50); }
  }
  wait();
}());

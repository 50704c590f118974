/* Grid-case hot spots on the planners' map, filtered by category and period. Categories
   come from the vocabulary, the hot/cold bins from the catalogue's hot-spot layer. */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, esc = SC.esc;
  var T = SC.i18n({
    zh: { title: '事件热点筛选', cats: '事件类别', from: '起始月份', to: '截止月份（含）', run: '查询',
          clear: '清除', loading: '正在计算热点…', city: '请在地址中加上 ?city=城市代码',
          cells: '格', hot: '热点', cold: '冷点', none: '所选条件下没有显著热点或冷点',
          pick: '请至少选择一个类别', error: '查询失败', hint: '选择类别和时段后点击“查询”',
          cases: '事件数', no_cases: '该时段没有案件', period: '数据时段', to_: '至',
          months: '个月', no_data: '该城市没有案件数据', slider: '按月查看', withheld: '少于公开下限' },
    en: { title: 'Case hot spots', cats: 'Categories', from: 'From month', to: 'To month (incl.)',
          run: 'Show', clear: 'Clear', loading: 'Computing hot spots…',
          city: 'Add ?city=<code> to the address', cells: 'cells', hot: 'hot', cold: 'cold',
          none: 'No significant hot or cold spots for this selection',
          pick: 'Pick at least one category', error: 'Request failed',
          hint: 'Choose categories and a period, then Show', cases: 'Cases',
          no_cases: 'No cases in this period', period: 'Data period', to_: 'to', months: 'months',
          no_data: 'This city has no case data', slider: 'Month by month',
          withheld: 'below the public minimum' }
  });

  var H3_RESOLUTION = 9;  // hexagons of about 0.1 km², finer than a grid

  function layerOf(cat, name) {
    return (cat.layers || []).filter(function (l) { return l.name === name; })[0];
  }
  // "2025-03" → "2025-04-01" (the window end is exclusive, the month inclusive).
  function nextMonth(m) {
    var ym = m.split('-'), y = Number(ym[0]), mo = Number(ym[1]);
    if (mo === 12) { y += 1; mo = 1; } else { mo += 1; }
    return y + '-' + String(mo).padStart(2, '0') + '-01';
  }

  function start(map, cat, vocab) {
    var hs = layerOf(cat, 'case_hotspots');
    var categories = vocab.case_categories;
    var bins = hs ? hs.style.classes : [];
    var colour = {};
    bins.forEach(function (b) { colour[String(b.value)] = b.color; });
    var box = SC.section('hotspots', T.title, false);
    box.classList.add('sc-hotspots');
    box.innerHTML =
      '<div class="hs-cats" role="group" aria-label="' + esc(T.cats) + '">' +
      categories.map(function (c) {
        return '<label><input type="checkbox" name="hs-cat" value="' + esc(c.code) + '" checked>' +
          '<span class="sw" style="background:' + esc(c.color) + '"></span>' + esc(c.label) + '</label>';
      }).join('') + '</div>' +
      '<label>' + esc(T.from) + ' <input id="hs-start" type="month"></label><br>' +
      '<label>' + esc(T.to) + ' <input id="hs-end" type="month"></label><br>' +
      '<div class="hs-slider"><label for="hs-month">' + esc(T.slider) + '</label> ' +
      '<input id="hs-month" type="range" min="0" max="0" value="0" disabled> <output id="hs-month-out"></output></div>' +
      '<div id="hs-period" class="hs-period"></div>' +
      '<button id="hs-run" type="button">' + esc(T.run) + '</button> ' +
      '<button id="hs-clear" type="button">' + esc(T.clear) + '</button>' +
      '<div id="hs-status" role="status" aria-live="polite">' + esc(C.city ? T.hint : T.city) + '</div>' +
      '<div class="hs-legend">' + bins.map(function (b) {
        return '<div class="row"><span class="sw" style="background:' + esc(b.color) + '"></span>' +
          esc(b.label) + '</div>';
      }).join('') + '</div>';
    var status = box.querySelector('#hs-status'), runBtn = box.querySelector('#hs-run');
    var drawn = 0, seq = 0, SRC = 'sc-hotspots';
    // The filtered cells: a GeoJSON source drawn above the catalogue's layers.
    var fill = ['match', ['to-string', ['get', 'bin']]];
    bins.forEach(function (b) { fill.push(String(b.value), b.color); });
    fill.push('#ccc');
    map.addSource(SRC, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: SRC, type: 'fill', source: SRC, metadata: { 'sc:part': 'panel' },
                   paint: { 'fill-color': fill,
                            'fill-opacity': ['case', ['==', ['to-number', ['get', 'bin']], 0], 0.12, 0.7] } });
    map.addLayer({ id: SRC + ':outline', type: 'line', source: SRC, metadata: { 'sc:part': 'panel' },
                   paint: { 'line-color': '#777', 'line-width': 0.4 } });
    SC.popups[SRC] = function (p) {
      return '<div class="popup"><strong>' + esc(SC.lang === 'en' ? p.label_en : p.label_zh) +
        '</strong>' + (p.n_cases !== undefined && p.n_cases !== null
          ? '<br>' + esc(T.cases) + ': ' + esc(p.n_cases) : '') + '</div>';
    };

    function say(text, cls) { status.textContent = text; status.className = cls || ''; }
    function clear() {
      map.getSource(SRC).setData({ type: 'FeatureCollection', features: [] });
      drawn = 0;
    }

    /* The data's months (/cases/months): the inputs' bounds, the slider's stops and the
       answer to "are there cases in this period?" (without asking for hot spots). */
    var months = null, startBox = box.querySelector('#hs-start'), endBox = box.querySelector('#hs-end');
    var slider = box.querySelector('#hs-month'), sliderOut = box.querySelector('#hs-month-out');
    function monthText(m) {
      return m.month + ' · ' + (m.n_cases === null ? T.withheld : SC.fmt.whole(m.n_cases) + ' ' + T.cases);
    }
    function casesIn(from, to) {  // null: not known (the month list did not come)
      if (months === null) { return null; }
      return months.some(function (m) {
        return (!from || m.month >= from) && (!to || m.month <= to) && m.n_cases !== 0;
      });
    }
    function changedPeriod() { if (SC.changed) { SC.changed('period'); } }
    var monthsReady = !C.city ? Promise.resolve() :
      SC.request('/cities/' + encodeURIComponent(C.city) + '/cases/months').then(function (res) {
        if (!res[0]) { return; }
        months = res[1].months || [];
        SC.hotspots.months = months;
        var p = box.querySelector('#hs-period');
        if (!months.length) { p.textContent = T.no_data; return; }
        p.textContent = T.period + ': ' + res[1].first + ' ' + T.to_ + ' ' + res[1].last +
          ' (' + months.length + ' ' + T.months + ')';
        [startBox, endBox].forEach(function (i) { i.min = res[1].first; i.max = res[1].last; });
        slider.max = String(months.length - 1);
        slider.disabled = false;
        slider.value = String(Math.max(0, months.map(function (m) { return m.month; }).indexOf(endBox.value)));
        sliderOut.textContent = endBox.value ? monthText(months[Number(slider.value)]) : '';
      }, function () { /* no month list: periods are checked by the hot-spot answer */ });
    slider.addEventListener('input', function () { sliderOut.textContent = monthText(months[Number(slider.value)]); });
    slider.addEventListener('change', function () {  // released: that month's hot spots
      var m = months[Number(slider.value)].month;
      startBox.value = m;
      endBox.value = m;
      changedPeriod();
      run();
    });
    [startBox, endBox].forEach(function (i) { i.addEventListener('change', changedPeriod); });

    // a run waits for the month list (a link's period may ask before it came)
    function run() { return monthsReady.then(runNow); }
    function runNow() {
      if (!C.city) { say(T.city, 'error'); return; }
      var from = startBox.value, to = endBox.value;
      // the truth, not "no hot spots" (a reversed period is the API's error to name)
      if (!(from && to && from > to) && casesIn(from, to) === false) {
        seq += 1;
        clear();
        if (SC.layerOn('case_hotspots')) { SC.setLayer('case_hotspots', false); }
        say(T.no_cases, 'empty');
        SC.hotspots.last = { cells: 0, hot: 0, cold: 0, empty: true };
        return;
      }
      var chosen = Array.prototype.filter.call(box.querySelectorAll('input[name=hs-cat]'),
        function (i) { return i.checked; }).map(function (i) { return i.value; });
      if (!chosen.length) { say(T.pick, 'error'); return; }
      var q = ['resolution=' + H3_RESOLUTION];
      if (chosen.length < categories.length) { q.push('categories=' + encodeURIComponent(chosen.join(','))); }
      var s = box.querySelector('#hs-start').value, e = box.querySelector('#hs-end').value;
      if (s) { q.push('start=' + s + '-01'); }
      if (e) { q.push('end=' + nextMonth(e)); }
      var mine = ++seq;
      runBtn.disabled = true;
      box.classList.add('loading');
      say(T.loading, 'loading');
      SC.request('/cities/' + encodeURIComponent(C.city) + '/cases/hotspots?' + q.join('&'))
        .then(function (res) {
          if (mine !== seq) { return; }
          var ok = res[0], j = res[1];
          if (!ok) {
            var why = (j.errors || []).map(function (p) { return p.reason; }).join('; ');
            say(T.error + ': ' + (j.detail || j.title || '') + (why ? ' (' + why + ')' : ''), 'error');
            return;
          }
          clear();
          // the stored (unfiltered) run would hide the filtered cells underneath, and other
          // area colours would mean something else: one colour meaning per map
          if (SC.layerOn('case_hotspots')) { SC.setLayer('case_hotspots', false); }
          if (SC.claimColours) { SC.claimColours('panel:hotspots'); }
          var feats = j.features || [], hot = 0, cold = 0;
          feats.forEach(function (f) {
            var b = Number(f.properties.bin);
            if (b > 0) { hot += 1; } else if (b < 0) { cold += 1; }
          });
          map.getSource(SRC).setData(j);
          drawn = feats.length;
          say(feats.length + ' ' + T.cells + ' · ' + T.hot + ' ' + hot + ' · ' + T.cold + ' ' + cold +
              (hot + cold ? '' : ' — ' + T.none), 'done');
          SC.hotspots.last = { cells: feats.length, hot: hot, cold: cold, meta: j.meta };
        })
        .catch(function (err) {
          if (mine === seq) { say(T.error + ': ' + (err && err.message ? err.message : err), 'error'); }
        })
        .then(function () {
          if (mine === seq) { runBtn.disabled = false; box.classList.remove('loading'); }
        });
    }
    runBtn.addEventListener('click', run);
    // a layer of another colour meaning turned on: the cells give way
    window.addEventListener('sc:colours', function (e) {
      if (e.detail !== 'panel:hotspots' && drawn) { clear(); say(T.hint); }
    });
    box.querySelector('#hs-clear').addEventListener('click', function () {
      clear();
      seq += 1;
      say(T.hint);
      runBtn.disabled = false;
      box.classList.remove('loading');
    });
    /* The chosen period (YYYY-MM, inclusive; '' = open), read or set (views.js). */
    function period(from, to) {
      if (from !== undefined) { startBox.value = from || ''; endBox.value = to || ''; }
      return [startBox.value, endBox.value];
    }
    SC.hotspots = { run: run, clear: clear, drawn: function () { return drawn; }, last: null,
                    period: period, months: [], casesIn: casesIn };
  }

  SC.whenReady(function () { start(SC.map, SC.catalogue, SC.vocab); });
}());

/* Leaders' siting tools on the planners' map: the N best new stations of a type (the
   siting engine, POST …/siting/plan), sites dropped by hand (what-if), each site's walking
   circle and the compounds it brings inside (POST …/siting/whatif with circles=true: the
   coverage definition, computed on the server), saving the scenario and downloading its
   one-page report (PDF). Station types, colours, minutes and the default number of sites
   come from the vocabulary (common.js). Whom a type serves and how fast they walk come with
   each answer (walkers: e.g. residents 60+ walking 60 m/min for elderly canteens), shown
   with the circle's length in metres. */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, esc = SC.esc;
  var T = SC.i18n({
    zh: { title: '选址试算', type: '站点类型', minutes: '步行分钟', drop: '放置站点', stop: '停止放置',
          clear: '清除', city: '请在地址中加上 ?city=城市代码', before: '现状覆盖', after: '方案后',
          gain: '新增', people: '人', site: '站点', snap: '离道路太远，未计入',
          hint: '点击“推荐最佳站点”，或放置站点后点击地图', error: '试算失败',
          n: '新建站点数', plan: '推荐最佳站点', solving: '正在求解最佳站点…',
          evaluating: '正在计算服务圈…', planError: '求解失败', rank: '第{n}名',
          proposal: '建议新站点', userSite: '自选站点', inside: '新纳入小区', compounds: '个',
          circle: '步行服务圈', broughtIn: '新纳入服务圈的小区', residents: '居民人数',
          bySite: '纳入站点', save: '保存方案', saving: '正在保存…', saved: '已保存方案',
          pdf: '下载报告（PDF）', needKey: '保存方案需要分析人员密钥（在“API 密钥”处填写）',
          saveError: '保存失败', walk: '{m}分钟步行圈', walkers: '{m}分钟步行圈：{who}，{d}米' },
    en: { title: 'Siting what-if', type: 'Station type', minutes: 'Walking minutes', drop: 'Drop sites',
          stop: 'Stop dropping', clear: 'Clear', city: 'Add ?city=<code> to the address',
          before: 'Covered now', after: 'With the new sites', gain: 'New', people: 'residents',
          site: 'Site', snap: 'too far from a street, not counted',
          hint: 'Press "Find best sites", or drop sites and click the map', error: 'What-if failed',
          n: 'New stations', plan: 'Find best sites', solving: 'Finding the best sites…',
          evaluating: 'Drawing the circles…', planError: 'Siting failed', rank: 'No. {n}',
          proposal: 'Proposed new station', userSite: 'Site placed by hand',
          inside: 'Compounds brought inside', compounds: '', circle: 'Walking circle',
          broughtIn: 'Compound brought inside', residents: 'Residents', bySite: 'Brought in by',
          save: 'Save scenario', saving: 'Saving…', saved: 'Saved scenario',
          pdf: 'Download report (PDF)',
          needKey: 'Saving a scenario needs an analyst key (enter it under "API key")',
          saveError: 'Saving failed', walk: '{m}-minute walk',
          walkers: '{m}-minute walk: {who}, {d} m' }
  });
  var CIRCLES = 'sc-siting-circles', COMPOUNDS = 'sc-siting-compounds';
  var TICK_MS = 200, FIT_PADDING = 48, FIT_MAX_ZOOM = 16;
  var EMPTY = { type: 'FeatureCollection', features: [] };

  function start(map, vocab) {
    var proposals = [], markers = [], active = false, seq = 0, timer = null;
    var types = vocab.service_types, th = vocab.thresholds, dflt = vocab.defaults;
    var colors = dflt.siting_colors;
    var box = SC.section('siting', T.title, false);
    box.classList.add('siting-whatif');
    box.innerHTML =
      '<label>' + esc(T.type) + ' <span id="sw-swatch" class="pt"></span><select id="sw-type">' +
      types.map(function (t) {
        return '<option value="' + esc(t.code) + '"' + (t.code === dflt.siting_service_type ? ' selected' : '') +
          '>' + esc(t.label) + '</option>';
      }).join('') + '</select></label><br>' +
      '<label>' + esc(T.minutes) + ' <input id="sw-min" type="number" min="1" max="' +
      esc(th.max_walk_minutes) + '" value="' + esc(dflt.minutes) + '" class="sw-min"></label><br>' +
      '<div class="sw-row"><label>' + esc(T.n) + ' <input id="sw-p" type="number" min="1" max="50" value="' +
      esc(dflt.siting_sites) + '" class="sw-min"></label> ' +
      '<button id="sw-plan" type="button">' + esc(T.plan) + '</button></div>' +
      '<div id="sw-progress" class="sw-progress" role="status" aria-live="polite" hidden>' +
      '<progress></progress> <span id="sw-progress-text"></span></div>' +
      '<div class="sw-row"><button id="sw-drop" type="button">' + esc(T.drop) + '</button> ' +
      '<button id="sw-clear" type="button">' + esc(T.clear) + '</button></div>' +
      '<div id="sw-title" class="sw-title" hidden></div>' +
      '<div id="sw-walkers" class="sw-note" hidden></div>' +
      '<div id="sw-out">' + esc(C.city ? T.hint : T.city) + '</div>' +
      '<div id="sw-legend" class="sw-legend" hidden>' +
      '<div class="row"><span class="sw" style="border:2px dashed ' + esc(colors.proposed) + '"></span>' + esc(T.circle) + '</div>' +
      '<div class="row"><span class="sw" style="background:' + esc(colors.brought_inside) + '"></span>' + esc(T.broughtIn) + '</div></div>' +
      '<div class="sw-row sw-save"><button id="sw-save" type="button" disabled>' + esc(T.save) + '</button> ' +
      '<a id="sw-pdf" hidden download>' + esc(T.pdf) + '</a></div>' +
      '<div id="sw-saved" class="sw-note" role="status"></div>';
    function $(id) { return box.querySelector('#' + id); }
    var out = $('sw-out'), drop = $('sw-drop'), typeSel = $('sw-type'), swatch = $('sw-swatch');
    var planBtn = $('sw-plan'), progress = $('sw-progress'), progressText = $('sw-progress-text');
    var saveBtn = $('sw-save'), pdf = $('sw-pdf'), saved = $('sw-saved'), titleBox = $('sw-title');
    var walkersBox = $('sw-walkers');
    var base = '/cities/' + encodeURIComponent(C.city || '') + '/siting/';

    /* ---- drawn on the map: circles of the sites, compounds they bring inside ---------- */
    map.addSource(CIRCLES, { type: 'geojson', data: EMPTY });
    map.addSource(COMPOUNDS, { type: 'geojson', data: EMPTY });
    map.addLayer({ id: COMPOUNDS, type: 'fill', source: COMPOUNDS,
                   paint: { 'fill-color': colors.brought_inside, 'fill-opacity': 0.8 } });
    map.addLayer({ id: COMPOUNDS + '-line', type: 'line', source: COMPOUNDS,
                   paint: { 'line-color': colors.brought_inside, 'line-width': 1.5 } });
    map.addLayer({ id: CIRCLES, type: 'fill', source: CIRCLES,
                   paint: { 'fill-color': colors.proposed, 'fill-opacity': 0.14 } });
    map.addLayer({ id: CIRCLES + '-line', type: 'line', source: CIRCLES,
                   paint: { 'line-color': colors.proposed, 'line-width': 2, 'line-dasharray': [2, 1] } });
    SC.popups[COMPOUNDS] = function (p) {
      return '<div class="popup"><strong>' + esc(p.name || '') + '</strong><br><small>' + esc(T.broughtIn) +
        '</small><table><tr><td>' + esc(T.residents) + '</td><td>' + esc(SC.fmt.whole(p.weight)) +
        '</td></tr><tr><td>' + esc(T.bySite) + '</td><td>' + esc(rankText(p.site + 1)) + '</td></tr></table></div>';
    };
    SC.popups[CIRCLES] = function (p) {
      var s = all()[p.site];
      return '<div class="popup"><strong>' + esc(T.circle) + ' · ' + esc(rankText(p.site + 1)) + '</strong>' +
        (s && s.answer ? '<br>' + esc(gainText(s.answer.gain)) : '') + '</div>';
    };

    function rankText(n) { return T.rank.replace('{n}', String(n)); }
    function gainText(g) { return T.gain + ' +' + SC.fmt.whole(g) + ' ' + T.people; }
    function all() { return proposals.concat(markers); }
    function chosen() { return vocab.term('service_type', typeSel.value) || {}; }
    function minutes() { return Number($('sw-min').value) || dflt.minutes; }
    /* "15-minute walk: residents 60+, walking 60 m/min, 900 m", from an answer's walkers. */
    function walkersText(w) {
      return T.walkers.replace('{m}', SC.fmt.number(minutes())).replace('{who}', w[SC.lang] || w.en || '')
        .replace('{d}', SC.fmt.whole(w.budget_m));
    }
    function busy(text) {
      window.clearInterval(timer);
      progress.hidden = !text;
      if (!text) { return; }
      var t0 = Date.now();
      function tick() { progressText.textContent = text + ' ' + new Date(Date.now() - t0).toISOString().slice(14, 19); }
      tick();
      timer = window.setInterval(tick, TICK_MS);
    }

    /* A proposal of the plan: a large numbered marker; its popup gives the gain. */
    function proposalMarker(f) {
      var el = document.createElement('div');
      el.className = 'sc-proposal';
      el.style.background = colors.proposed;
      el.textContent = String(f.properties.rank);
      el.title = rankText(f.properties.rank);
      var m = new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map);
      m.setPopup(new maplibregl.Popup({ offset: 20, maxWidth: '280px' }));
      el.addEventListener('click', function (e) { e.stopPropagation(); m.togglePopup(); });
      m.site = { kind: f.properties.kind, name: f.properties.name || '', proposal: true };
      return m;
    }
    /* A dropped site: a draggable marker showing the type's glyph and, once evaluated,
       its gain. */
    function siteMarker(lngLat) {
      var el = document.createElement('div');
      el.className = 'sc-site';
      el.innerHTML = '<img alt=""><span class="tip" hidden></span>';
      var t = chosen();
      el.querySelector('img').src = SC.glyphIcon(t.color, t.glyph);
      var m = new maplibregl.Marker({ element: el, draggable: true }).setLngLat(lngLat).addTo(map);
      m.on('dragend', evaluate);
      m.setPopup(new maplibregl.Popup({ offset: 14, maxWidth: '280px' }));
      el.addEventListener('click', function (e) { e.stopPropagation(); m.togglePopup(); });
      m.setTip = function (text) {
        var tip = el.querySelector('.tip');
        tip.textContent = text;
        tip.hidden = false;
      };
      m.site = { kind: 'user', name: '', proposal: false };
      return m;
    }
    function popupHtml(m, i, s, w) {
      var t = chosen();
      return '<div class="popup"><strong>' + esc(rankText(i + 1)) + ' · ' +
        esc(m.site.proposal ? T.proposal : T.userSite) + '</strong>' +
        (m.site.name ? '<br>' + esc(m.site.name) : '') + '<br><small>' + esc(t.label || '') + ' · ' +
        esc(w ? walkersText(w) : T.walk.replace('{m}', SC.fmt.number(minutes()))) + '</small><table>' +
        '<tr><td>' + esc(T.gain) + '</td><td><b>+' + esc(SC.fmt.whole(s.gain)) + ' ' + esc(T.people) + '</b></td></tr>' +
        '<tr><td>' + esc(T.inside) + '</td><td>' + esc(SC.fmt.whole(s.demand_inside)) + ' ' + esc(T.compounds) +
        '</td></tr></table>' + (s.snapped ? '' : '<small>' + esc(T.snap) + '</small>') + '</div>';
    }
    function restyle() {
      var t = chosen();
      swatch.style.background = t.color || '';
      swatch.textContent = t.glyph || '';
      markers.forEach(function (m) { m.getElement().querySelector('img').src = SC.glyphIcon(t.color, t.glyph); });
    }
    function resetSaved() {
      pdf.hidden = true;
      pdf.removeAttribute('href');
      saved.textContent = '';
    }
    function clearDrawn() {
      map.getSource(CIRCLES).setData(EMPTY);
      map.getSource(COMPOUNDS).setData(EMPTY);
      titleBox.hidden = true;
      walkersBox.hidden = true;
      $('sw-legend').hidden = true;
      saveBtn.disabled = true;
    }

    /* Every site on the map (proposals in rank order, then dropped ones) evaluated at once:
       figures, marginal gains, circles and the compounds brought inside. */
    function evaluate() {
      resetSaved();
      var sites = all();
      if (!C.city || !sites.length) {
        clearDrawn();
        out.textContent = C.city ? T.hint : T.city;
        return;
      }
      var mine = ++seq;
      busy(T.evaluating);
      var body = { service_type: typeSel.value, minutes: minutes(), circles: true,
                   sites: sites.map(function (m) { var p = m.getLngLat(); return [p.lng, p.lat]; }) };
      SC.postJSON(base + 'whatif', body).then(function (res) {
        if (mine !== seq) { return; }
        busy(null);
        var ok = res[0], j = res[1];
        if (!ok) { clearDrawn(); out.textContent = T.error + ': ' + (j.detail || j.title || ''); return; }
        show(j);
      }, function () { if (mine === seq) { busy(null); out.textContent = T.error; } });
    }
    function show(j) {
      var sites = all();
      map.getSource(CIRCLES).setData(j.circles);
      map.getSource(COMPOUNDS).setData(j.compounds);
      var rows = j.sites.map(function (s, i) {
        var m = sites[i];
        m.answer = s;
        m.getPopup().setHTML(popupHtml(m, i, s, j.walkers));
        if (m.setTip) { m.setTip('#' + (i + 1) + ' +' + SC.fmt.whole(s.gain)); }
        return '<tr><td>' + esc(rankText(i + 1)) + '</td><td>' + esc(m.site.name || (m.site.proposal ? T.proposal : T.userSite)) +
          '</td><td>' + (s.snapped ? '+' + esc(SC.fmt.whole(s.gain)) + ' ' + esc(T.people) : esc(T.snap)) + '</td></tr>';
      }).join('');
      titleBox.textContent = (j.title || {})[SC.lang] || '';
      titleBox.hidden = !titleBox.textContent;
      walkersBox.textContent = j.walkers ? walkersText(j.walkers) : '';
      walkersBox.hidden = !walkersBox.textContent;
      out.innerHTML = esc(T.before) + ': ' + esc(SC.fmt.whole(j.before_weight)) + ' (' +
        esc(SC.fmt.percent(j.before_share)) + ')<br>' +
        esc(T.after) + ': ' + esc(SC.fmt.whole(j.after_weight)) + ' (' + esc(SC.fmt.percent(j.after_share)) + ')<br>' +
        '<b>' + esc(T.gain) + ' +' + esc(SC.fmt.whole(j.gain)) + ' ' + esc(T.people) + '</b>' +
        '<table class="sw-sites">' + rows + '</table>';
      $('sw-legend').hidden = false;
      saveBtn.disabled = false;
      SC.siting.answer = j;
    }

    /* The coverage panel (map.js) shows the existing circles of the type sited, if it can. */
    function showCoverageOfType() {
      var cov = document.getElementById('cov-type');
      if (cov && SC.coverage && cov.value !== typeSel.value &&
          Array.prototype.some.call(cov.options, function (o) { return o.value === typeSel.value; })) {
        cov.value = typeSel.value;
        SC.coverage.apply();
      }
    }

    /* The N best sites: the siting engine on the server; progress while it solves. */
    function plan() {
      if (!C.city) { out.textContent = T.city; return; }
      showCoverageOfType();
      var mine = ++seq;
      planBtn.disabled = true;
      busy(T.solving);
      var body = { service_type: typeSel.value, minutes: minutes(), p: Number($('sw-p').value) || dflt.siting_sites };
      SC.postJSON(base + 'plan', body).then(function (res) {
        planBtn.disabled = false;
        if (mine !== seq) { return; }
        busy(null);
        var ok = res[0], j = res[1];
        if (!ok) { out.textContent = T.planError + ': ' + (j.detail || j.title || ''); return; }
        proposals.forEach(function (m) { m.remove(); });
        proposals = j.sites.features.map(proposalMarker);
        if (proposals.length) {
          var b = new maplibregl.LngLatBounds();
          j.sites.features.forEach(function (f) { b.extend(f.geometry.coordinates); });
          map.fitBounds(b, { padding: FIT_PADDING, maxZoom: FIT_MAX_ZOOM, duration: 0 });
        }
        evaluate();
      }, function () { planBtn.disabled = false; busy(null); out.textContent = T.planError; });
    }

    /* Save what is on the map as a scenario (analyst key), then offer its report. */
    function save() {
      if (['analyst', 'admin'].indexOf(SC.role) < 0) { saved.textContent = T.needKey; return; }
      var sites = all();
      saveBtn.disabled = true;
      saved.textContent = T.saving;
      var body = { service_type: typeSel.value, minutes: minutes(), save: true,
                   sites: sites.map(function (m) { var p = m.getLngLat(); return [p.lng, p.lat]; }),
                   site_names: sites.map(function (m) { return m.site.name; }),
                   site_kinds: sites.map(function (m) { return m.site.kind; }) };
      SC.postJSON(base + 'whatif', body).then(function (res) {
        saveBtn.disabled = false;
        var ok = res[0], j = res[1];
        if (!ok) { saved.textContent = T.saveError + ': ' + (j.detail || j.title || ''); return; }
        saved.textContent = T.saved + ' #' + j.scenario_id + ': ' + ((j.title || {})[SC.lang] || '');
        pdf.href = base + 'scenarios/' + encodeURIComponent(j.scenario_id) + '/report.pdf';
        pdf.hidden = false;
        SC.siting.scenarioId = j.scenario_id;
      }, function () { saveBtn.disabled = false; saved.textContent = T.saveError; });
    }

    planBtn.addEventListener('click', plan);
    saveBtn.addEventListener('click', save);
    drop.addEventListener('click', function () {
      active = !active;
      if (active) { showCoverageOfType(); }
      SC.dropping = active;
      drop.textContent = active ? T.stop : T.drop;
      map.getContainer().style.cursor = active ? 'crosshair' : '';
    });
    $('sw-clear').addEventListener('click', function () {
      all().forEach(function (m) { m.remove(); });
      markers = [];
      proposals = [];
      evaluate();
    });
    typeSel.addEventListener('change', function () { restyle(); evaluate(); });
    $('sw-min').addEventListener('change', evaluate);
    map.on('click', function (e) {
      if (!active) { return; }
      markers.push(siteMarker(e.lngLat));
      evaluate();
    });
    restyle();
    SC.siting = { markers: function () { return markers; }, proposals: function () { return proposals; },
                  evaluate: evaluate, plan: plan, answer: null, scenarioId: null };
  }

  SC.whenReady(function () { start(SC.map, SC.vocab); });
}());

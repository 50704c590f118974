/* The numbers beside the map: totals of the chosen service type and minutes (and moment of
   the time control, openat.js: the same run the coverage layers draw), a table by
   community / grid / street whose rows highlight and fly to their features, a small chart
   and the CSV/Excel downloads of exactly these rows. Everything comes from one answer,
   /cities/{city}/coverage/panel (the one coverage definition; whole people), so the panel,
   the downloads and the gap layer add up to the same residents. Colours: the chosen
   type's (vocabulary) — inside filled, outside outlined. */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, esc = SC.esc;
  var T = SC.i18n({
    zh: { title: '覆盖数字', inside: '圈内居民', outside: '圈外居民', off_net: '不在路网上',
          compounds: '小区（圈内/圈外）', share: '覆盖率', data: '数据完整度',
          with_res: '有居民数', with_gates: '有出入口', by: '按', name: '名称',
          out: '圈外居民', cov: '覆盖率', csv: 'CSV', xlsx: 'Excel', loading: '正在加载…',
          none: '该城市还没有覆盖分析结果（servicecircle analyze coverage）',
          not_in_run: '最新覆盖分析中没有该类型或该步行时间', chart: '圈外居民最多的单位', people: '人',
          all_units: '共 {n} 个单位', allday: '全天' },
    en: { title: 'Coverage figures', inside: 'Residents inside', outside: 'Residents outside',
          off_net: 'Off the street network', compounds: 'Compounds (in / out)',
          share: 'Covered', data: 'Data completeness', with_res: 'with residents',
          with_gates: 'with gates', by: 'By', name: 'Name', out: 'Outside', cov: 'Covered',
          csv: 'CSV', xlsx: 'Excel', loading: 'Loading…',
          none: 'No coverage run for this city yet (servicecircle analyze coverage)',
          not_in_run: 'The latest coverage run holds no such type or walking time', chart: 'Units with most residents outside',
          people: 'residents', all_units: '{n} units', allday: 'all day' }
  });
  var KINDS = ['community', 'grid', 'street'];
  var LAYER_OF = { community: 'communities', grid: 'grids', street: 'streets' };
  var CHART_ROWS = 8, FLY_MAX_ZOOM = 16, HL = 'sc-highlight';
  var box, kind = 'community', answer = null, seq = 0, hseq = 0;

  function kindTitle(k) {
    var l = SC.state.byName[LAYER_OF[k]] || (SC.catalogue.layers || []).filter(function (x) {
      return x.name === LAYER_OF[k];
    })[0];
    return l ? l.title : k;
  }
  function typeTerm() { return SC.vocab.term('service_type', answer.service_type) || {}; }

  function totalsHtml(a) {
    var t = a.totals, d = a.data, f = SC.fmt;
    function row(label, value, id) {
      return '<tr><th>' + esc(label) + '</th><td id="nb-' + id + '">' + esc(value) + '</td></tr>';
    }
    var when = a.at ? (SC.openAt ? SC.openAt.shown(a.at) : a.at) : T.allday;
    return '<div class="nb-head">' + esc(a.service_type_label) + ' · ' + esc(f.whole(a.minutes)) +
      (SC.lang === 'en' ? ' min' : ' 分钟') + ' · <span id="nb-at">' + esc(when) + '</span></div>' +
      '<table class="nb-totals">' +
      row(T.inside, f.whole(t.residents_in), 'in') +
      row(T.outside, f.whole(t.residents_out), 'out') +
      (t.residents_unknown ? row(T.off_net, f.whole(t.residents_unknown), 'off-net') : '') +
      row(T.share, t.share_covered === null ? '–' : f.percent(t.share_covered), 'share') +
      row(T.compounds, f.whole(t.compounds_in) + ' / ' + f.whole(t.compounds_out), 'compounds') +
      row(T.data, T.with_res + ' ' + (d.share_with_residents === null ? '–' : f.percent(d.share_with_residents)) +
          ' · ' + T.with_gates + ' ' + (d.share_with_gates === null ? '–' : f.percent(d.share_with_gates)), 'data') +
      '</table>';
  }

  function rowsOf(k) {
    return answer.rows.filter(function (r) { return r.unit_kind === k; })
      .sort(function (a, b) { return b.residents_out - a.residents_out || b.residents - a.residents; });
  }

  /* A horizontal bar per unit (most residents outside first): inside filled in the type's
     colour, outside outlined in it; widths in people on one scale. */
  function chartSvg(rows) {
    var shown = rows.slice(0, CHART_ROWS), colour = typeTerm().color || 'currentColor';
    var W = 270, LABEL = 92, BAR = 12, GAP = 4, H = shown.length * (BAR + GAP);
    var max = Math.max.apply(null, shown.map(function (r) { return r.residents_in + r.residents_out; }).concat([1]));
    var scale = (W - LABEL - 40) / max;
    var bars = shown.map(function (r, i) {
      var y = i * (BAR + GAP), wi = r.residents_in * scale, wo = r.residents_out * scale;
      var name = String(r.name || r.external_id || r.unit_id);
      return '<g data-unit="' + r.unit_id + '"><title>' + esc(name) + ': ' + esc(T.outside) + ' ' +
        esc(SC.fmt.whole(r.residents_out)) + '</title>' +
        '<text x="' + (LABEL - 4) + '" y="' + (y + BAR - 2) + '" text-anchor="end">' +
        esc(name.length > 8 ? name.slice(0, 7) + '…' : name) + '</text>' +
        '<rect class="in" x="' + LABEL + '" y="' + y + '" width="' + wi.toFixed(1) + '" height="' + BAR +
        '" fill="' + esc(colour) + '"/>' +
        '<rect class="out" x="' + (LABEL + wi).toFixed(1) + '" y="' + (y + 0.5) + '" width="' +
        Math.max(0, wo - 1).toFixed(1) + '" height="' + (BAR - 1) + '" fill="none" stroke="' + esc(colour) + '"/>' +
        '<text x="' + (LABEL + wi + wo + 3).toFixed(1) + '" y="' + (y + BAR - 2) + '">' +
        esc(SC.fmt.whole(r.residents_out)) + '</text></g>';
    }).join('');
    return '<div class="nb-chart-title">' + esc(T.chart) + ' <span class="nb-key"><i style="background:' +
      esc(colour) + '"></i>' + esc(T.inside) + ' <i style="border:1px solid ' + esc(colour) + '"></i>' +
      esc(T.outside) + '</span></div><svg id="nb-chart" width="' + W + '" height="' + H + '" viewBox="0 0 ' +
      W + ' ' + H + '" role="img" aria-label="' + esc(T.chart) + '">' + bars + '</svg>';
  }

  function tableHtml(rows) {
    return '<div class="nb-kinds" role="tablist">' + KINDS.map(function (k) {
      return '<button type="button" role="tab" data-kind="' + k + '"' +
        (k === kind ? ' class="on" aria-selected="true"' : '') + '>' + esc(kindTitle(k)) + '</button>';
    }).join('') + '</div><div class="nb-scroll"><table id="nb-table"><thead><tr><th>' + esc(T.name) +
      '</th><th>' + esc(T.out) + '</th><th>' + esc(T.cov) + '</th></tr></thead><tbody>' +
      rows.map(function (r) {
        return '<tr data-unit="' + r.unit_id + '" tabindex="0"><td>' + esc(r.name || r.external_id || r.unit_id) +
          '</td><td>' + esc(SC.fmt.whole(r.residents_out)) + '</td><td>' +
          esc(r.share_covered === null ? '–' : SC.fmt.percent(r.share_covered)) + '</td></tr>';
      }).join('') + '</tbody></table></div><small>' +
      esc(T.all_units.replace('{n}', String(rows.length))) + '</small>';
  }

  function render() {
    var rows = rowsOf(kind);
    box.innerHTML = totalsHtml(answer) + chartSvg(rows) + tableHtml(rows) +
      '<div class="nb-downloads"><a id="nb-csv" href="' + esc(answer.downloads.csv) + '" download>' +
      esc(T.csv) + '</a> · <a id="nb-xlsx" href="' + esc(answer.downloads.xlsx) + '" download>' +
      esc(T.xlsx) + '</a></div>';
    Array.prototype.forEach.call(box.querySelectorAll('.nb-kinds button'), function (b) {
      b.addEventListener('click', function () { kind = b.getAttribute('data-kind'); render(); });
    });
    Array.prototype.forEach.call(box.querySelectorAll('#nb-table tr[data-unit], #nb-chart g[data-unit]'),
      function (tr) {
        function go() { highlight(kind, Number(tr.getAttribute('data-unit'))); }
        tr.addEventListener('click', go);
        tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') { go(); } });
      });
  }

  /* Highlight a unit's feature (its outline above everything) and fly to it; the feature
     comes from the unit's layer by its id (OGC API – Features). */
  function highlight(k, id) {
    Array.prototype.forEach.call(box.querySelectorAll('#nb-table tr'), function (tr) {
      tr.classList.toggle('sel', Number(tr.getAttribute('data-unit')) === id);
    });
    var mine = ++hseq;
    return SC.request('/collections/' + LAYER_OF[k] + '/items/' + id).then(function (res) {
      if (mine !== hseq || !res[0]) { return; }
      var f = res[1];
      SC.map.getSource(HL).setData({ type: 'FeatureCollection', features: [f] });
      var b = [Infinity, Infinity, -Infinity, -Infinity];
      (function walk(c) {
        if (typeof c[0] === 'number') {
          b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
        } else { c.forEach(walk); }
      }(f.geometry.coordinates));
      SC.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, maxZoom: FLY_MAX_ZOOM, duration: 600 });
      SC.numbers.selected = { kind: k, id: id, bbox: b };
    });
  }

  function load() {
    var sel = SC.coverage.selection;
    var type = sel.service_type || SC.vocab.defaults.service_type;
    var q = 'service_type=' + encodeURIComponent(type) + '&minutes=' + encodeURIComponent(sel.minutes) +
      '&lang=' + SC.lang + (sel.at ? '&at=' + encodeURIComponent(sel.at) : '');
    var mine = ++seq, run = C.coverage;
    if (!run || run.service_types.indexOf(type) < 0 || run.minutes.indexOf(Number(sel.minutes)) < 0) {
      answer = null;
      SC.numbers.answer = null;
      box.innerHTML = '<small>' + esc(run ? T.not_in_run : T.none) + '</small>';
      return Promise.resolve();
    }
    box.classList.add('loading');
    return SC.request('/cities/' + encodeURIComponent(C.city) + '/coverage/panel?' + q).then(function (res) {
      if (mine !== seq) { return; }
      box.classList.remove('loading');
      if (!res[0]) {
        answer = null;
        SC.numbers.answer = null;
        box.innerHTML = '<small>' + esc(sel.at ? res[1].detail || res[1].title || T.none : T.none) +
          '</small>';
        return;
      }
      answer = res[1];
      box.setAttribute('data-at', answer.at || '');
      render();
      SC.numbers.answer = answer;
    });
  }

  SC.whenReady(function () {
    if (!C.city) { return; }
    box = SC.section('numbers', T.title, true);
    box.classList.add('sc-numbers');
    box.innerHTML = '<small>' + esc(T.loading) + '</small>';
    // beside the selectors it depends on
    var cov = document.getElementById('sec-coverage'), sec = document.getElementById('sec-numbers');
    cov.parentNode.insertBefore(sec, cov.nextSibling);
    SC.map.addSource(HL, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    SC.map.addLayer({ id: HL, type: 'line', source: HL, metadata: { 'sc:part': 'panel' },
                      paint: { 'line-color': typeColour(), 'line-width': 4, 'line-opacity': 0.9 } });
    SC.numbers = { load: load, highlight: highlight, answer: null, selected: null,
                   kind: function (k) { if (k) { kind = k; render(); } return kind; } };
    window.addEventListener('sc:change', function (e) {
      if (e.detail === 'selection') {
        load().then(function () { SC.map.setPaintProperty(HL, 'line-color', typeColour()); });
      }
    });
    load();
  });
  // the outline of a highlighted unit: the chosen type's colour (its one meaning on the map)
  function typeColour() {
    var t = SC.vocab.term('service_type', SC.coverage.selection.service_type ||
                          SC.vocab.defaults.service_type);
    return (t && t.color) || 'black';
  }
}());

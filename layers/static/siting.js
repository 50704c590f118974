/* Siting what-if on the planners' map: drop sites, see the residents they bring inside.
   Station types (also those added later), their colours and the walking minutes come
   from the vocabulary (common.js). */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, esc = SC.esc;
  var T = SC.i18n({
    zh: { title: '选址试算', type: '站点类型', minutes: '步行分钟', drop: '放置站点', stop: '停止放置',
          clear: '清除', city: '请在地址中加上 ?city=城市代码', before: '现状覆盖', after: '方案后',
          gain: '新增', people: '人', site: '站点', snap: '离道路太远，未计入',
          hint: '点击地图放置站点', error: '试算失败' },
    en: { title: 'Siting what-if', type: 'Station type', minutes: 'Walking minutes', drop: 'Drop sites',
          stop: 'Stop dropping', clear: 'Clear', city: 'Add ?city=<code> to the address',
          before: 'Covered now', after: 'With the new sites', gain: 'New', people: 'residents',
          site: 'Site', snap: 'too far from a street, not counted',
          hint: 'Click the map to drop a site', error: 'What-if failed' }
  });

  function start(map, vocab) {
    var markers = [], active = false, seq = 0;
    var types = vocab.service_types, th = vocab.thresholds, dflt = vocab.defaults;
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
      '<button id="sw-drop" type="button">' + esc(T.drop) + '</button> ' +
      '<button id="sw-clear" type="button">' + esc(T.clear) + '</button>' +
      '<div id="sw-out">' + esc(C.city ? T.hint : T.city) + '</div>';
    var out = box.querySelector('#sw-out'), drop = box.querySelector('#sw-drop');
    var typeSel = box.querySelector('#sw-type'), swatch = box.querySelector('#sw-swatch');

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
      m.setTip = function (text) {
        var tip = el.querySelector('.tip');
        tip.textContent = text;
        tip.hidden = false;
      };
      return m;
    }
    // The chosen type's look: the swatch by the selector and the dropped sites' markers.
    function chosen() { return vocab.term('service_type', typeSel.value) || {}; }
    function restyle() {
      var t = chosen();
      swatch.style.background = t.color || '';
      swatch.textContent = t.glyph || '';
      markers.forEach(function (m) { m.getElement().querySelector('img').src = SC.glyphIcon(t.color, t.glyph); });
    }

    function evaluate() {
      if (!C.city || !markers.length) { out.textContent = C.city ? T.hint : T.city; return; }
      var mine = ++seq;
      var body = { service_type: typeSel.value,
                   minutes: Number(box.querySelector('#sw-min').value) || dflt.minutes,
                   sites: markers.map(function (m) { var p = m.getLngLat(); return [p.lng, p.lat]; }) };
      SC.postJSON('/cities/' + encodeURIComponent(C.city) + '/siting/whatif', body)
        .then(function (res) {
          if (mine !== seq) { return; }
          var ok = res[0], j = res[1];
          if (!ok) { out.textContent = T.error + ': ' + (j.detail || j.title || ''); return; }
          var rows = j.sites.map(function (s, i) {
            markers[i].setTip('#' + (i + 1) + ' +' + SC.fmt.whole(s.gain));
            return '<tr><td>' + esc(T.site) + ' ' + (i + 1) + '</td><td>' +
              (s.snapped ? '+' + esc(SC.fmt.whole(s.gain)) + ' ' + esc(T.people) : esc(T.snap)) + '</td></tr>';
          }).join('');
          out.innerHTML = esc(T.before) + ': ' + esc(SC.fmt.whole(j.before_weight)) + ' (' +
            esc(SC.fmt.percent(j.before_share)) + ')<br>' +
            esc(T.after) + ': ' + esc(SC.fmt.whole(j.after_weight)) + ' (' + esc(SC.fmt.percent(j.after_share)) + ')<br>' +
            '<b>' + esc(T.gain) + ' +' + esc(SC.fmt.whole(j.gain)) + ' ' + esc(T.people) + '</b>' +
            '<table class="sw-sites">' + rows + '</table>';
        });
    }

    drop.addEventListener('click', function () {
      active = !active;
      SC.dropping = active;
      drop.textContent = active ? T.stop : T.drop;
      map.getContainer().style.cursor = active ? 'crosshair' : '';
    });
    box.querySelector('#sw-clear').addEventListener('click', function () {
      markers.forEach(function (m) { m.remove(); });
      markers = [];
      evaluate();
    });
    typeSel.addEventListener('change', function () { restyle(); evaluate(); });
    box.querySelector('#sw-min').addEventListener('change', evaluate);
    map.on('click', function (e) {
      if (!active) { return; }
      markers.push(siteMarker(e.lngLat));
      evaluate();
    });
    restyle();
    SC.siting = { markers: function () { return markers; }, evaluate: evaluate };
  }

  SC.whenReady(function () { start(SC.map, SC.vocab); });
}());

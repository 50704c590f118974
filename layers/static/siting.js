/* Siting what-if on the planners' map: drop sites, see the residents they bring inside. */
(function () {
  'use strict';
  var C = window.SC_CONFIG || {}, zh = C.lang !== 'en';
  var T = zh ? {
    title: '选址试算', type: '站点类型', minutes: '步行分钟', drop: '放置站点', stop: '停止放置',
    clear: '清除', city: '请在地址中加上 ?city=城市代码', before: '现状覆盖', after: '方案后',
    gain: '新增', people: '人', site: '站点', snap: '离道路太远，未计入', hint: '点击地图放置站点'
  } : {
    title: 'Siting what-if', type: 'Station type', minutes: 'Walking minutes', drop: 'Drop sites',
    stop: 'Stop dropping', clear: 'Clear', city: 'Add ?city=<code> to the address',
    before: 'Covered now', after: 'With the new sites', gain: 'New', people: 'residents',
    site: 'Site', snap: 'too far from a street, not counted', hint: 'Click the map to drop a site'
  };
  var TYPES = [['red_station', '红色驿站', 'Red station'], ['grid_station', '网格服务站', 'Grid service station'],
    ['courier_station', '小哥驿站', 'Courier rest station'], ['party_mass_centre', '党群服务中心', 'Party-mass service centre'],
    ['convenience_point', '红色便民点', 'Convenience point'], ['parcel_station', '快递驿站', 'Parcel station'],
    ['elderly_canteen', '孝老食堂', 'Elderly canteen'], ['elderly_daycare', '日间照料中心', 'Elderly day care'],
    ['after_school', '六点半课堂', 'After-school room']];

  function fmt(v) { return Math.round(v).toLocaleString(); }
  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function start(map) {
    var markers = [], active = false, seq = 0;
    var box = L.DomUtil.create('div', 'legend siting-whatif');
    box.innerHTML = '<h4>' + T.title + '</h4>' +
      '<label>' + T.type + ' <select id="sw-type">' + TYPES.map(function (t) {
        return '<option value="' + t[0] + '">' + (zh ? t[1] : t[2]) + '</option>';
      }).join('') + '</select></label><br>' +
      '<label>' + T.minutes + ' <input id="sw-min" type="number" min="1" max="60" value="15" style="width:4em"></label><br>' +
      '<button id="sw-drop" type="button">' + T.drop + '</button> ' +
      '<button id="sw-clear" type="button">' + T.clear + '</button>' +
      '<div id="sw-out">' + (C.city ? T.hint : T.city) + '</div>';
    L.DomEvent.disableClickPropagation(box);
    var ctl = L.control({ position: 'topleft' });
    ctl.onAdd = function () { return box; };
    ctl.addTo(map);
    var out = box.querySelector('#sw-out'), drop = box.querySelector('#sw-drop');

    function evaluate() {
      if (!C.city || !markers.length) { out.textContent = C.city ? T.hint : T.city; return; }
      var mine = ++seq;
      var body = { service_type: box.querySelector('#sw-type').value,
                   minutes: Number(box.querySelector('#sw-min').value) || 15,
                   sites: markers.map(function (m) { var p = m.getLatLng(); return [p.lng, p.lat]; }) };
      fetch('/cities/' + encodeURIComponent(C.city) + '/siting/whatif', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) {
          if (mine !== seq) { return; }
          var ok = res[0], j = res[1];
          if (!ok) { out.textContent = j.detail || j.title || 'error'; return; }
          var rows = j.sites.map(function (s, i) {
            markers[i].bindTooltip('#' + (i + 1) + ' +' + fmt(s.gain), { permanent: true, direction: 'top' });
            return '<tr><td>' + T.site + ' ' + (i + 1) + '</td><td>' +
              (s.snapped ? '+' + fmt(s.gain) + ' ' + T.people : esc(T.snap)) + '</td></tr>';
          }).join('');
          out.innerHTML = T.before + ': ' + fmt(j.before_weight) + ' (' + (100 * j.before_share).toFixed(1) + ' %)<br>' +
            T.after + ': ' + fmt(j.after_weight) + ' (' + (100 * j.after_share).toFixed(1) + ' %)<br>' +
            '<b>' + T.gain + ' +' + fmt(j.gain) + ' ' + T.people + '</b>' +
            '<table class="sw-sites">' + rows + '</table>';
        });
    }

    drop.addEventListener('click', function () {
      active = !active;
      window.SC.dropping = active;
      drop.textContent = active ? T.stop : T.drop;
      map.getContainer().style.cursor = active ? 'crosshair' : '';
    });
    box.querySelector('#sw-clear').addEventListener('click', function () {
      markers.forEach(function (m) { map.removeLayer(m); });
      markers = [];
      evaluate();
    });
    box.querySelector('#sw-type').addEventListener('change', evaluate);
    box.querySelector('#sw-min').addEventListener('change', evaluate);
    map.on('click', function (e) {
      if (!active) { return; }
      var m = L.marker(e.latlng, { draggable: true }).addTo(map);
      m.on('dragend', evaluate);
      markers.push(m);
      evaluate();
    });
    window.SC.siting = { markers: function () { return markers; }, evaluate: evaluate };
  }

  function wait() {
    if (window.SC && window.SC.map) { start(window.SC.map); } else { window.setTimeout(wait, 50); }
  }
  wait();
}());

/* Open-now coverage on the planners' map: a time control in the coverage section —
   all day / now / a chosen weekday and hour — and the residents inside / outside the
   circle of the chosen type and minutes counting only the service points open then
   (GET /cities/{city}/coverage/panel?at=…, the stored run of those points). Times are
   China Standard Time; weekdays in the OpenStreetMap opening_hours codes (Mo … Su). */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, esc = SC.esc;
  var DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];
  var T = SC.i18n({
    zh: { when: '开放时段', allday: '全天', now: '现在', choose: '指定时间',
          days: ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
          inside: '圈内居民', outside: '圈外居民', compounds: '小区（圈内/圈外）',
          allday_note: '全天：所有站点（开放时间未填视为全天开放）', at: '仅计开放站点',
          norun: '该时段尚无计算结果', type: '服务类型', layers: '地图图层为全天结果' },
    en: { when: 'Opening hours', allday: 'All day', now: 'Now', choose: 'Choose',
          days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
          inside: 'Residents inside', outside: 'Residents outside',
          compounds: 'Compounds (inside/outside)',
          allday_note: 'All day: every station (blank hours count as always open)',
          at: 'open stations only', norun: 'No run for this time yet', type: 'Service type',
          layers: 'map layers show all day' }
  });

  // The current weekday and time in China Standard Time, as 'Mo 14:05'.
  function nowInChina() {
    var parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', weekday: 'short',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date());
    var get = function (t) { return parts.filter(function (p) { return p.type === t; })[0].value; };
    return get('weekday').slice(0, 2) + ' ' + get('hour') + ':' + get('minute');
  }

  // A moment as shown: the weekday in the page's language ('Mo 22:00' → '周一 22:00').
  function shown(at) {
    var i = DAYS.indexOf(String(at).slice(0, 2));
    return i >= 0 && / \d\d:\d\d$/.test(at) ? T.days[i] + at.slice(2) : at;
  }

  function start(vocab) {
    var body = document.querySelector('#sec-coverage .sc-body');
    if (!body) { return; }
    var box = document.createElement('div');
    box.className = 'sc-openat';
    var hours = [];
    for (var h = 0; h < 24; h++) { hours.push(String(h).padStart(2, '0') + ':00'); }
    box.innerHTML = '<div class="oa-when">' + esc(T.when) + ': ' +
      ['allday', 'now', 'choose'].map(function (m) {
        return '<label><input type="radio" name="oa-mode" value="' + m + '"' +
          (m === 'allday' ? ' checked' : '') + '> ' + esc(T[m]) + '</label>';
      }).join(' ') + '</div>' +
      '<div class="oa-pick" hidden><select id="oa-day">' + DAYS.map(function (d, i) {
        return '<option value="' + d + '">' + esc(T.days[i]) + '</option>';
      }).join('') + '</select> <select id="oa-hour">' + hours.map(function (x) {
        return '<option value="' + x + '"' + (x === '22:00' ? ' selected' : '') + '>' + x + '</option>';
      }).join('') + '</select></div><div id="oa-out"></div>';
    body.appendChild(box);
    var out = box.querySelector('#oa-out'), pick = box.querySelector('.oa-pick'), seq = 0;

    function mode() { return box.querySelector('input[name=oa-mode]:checked').value; }
    function at() {
      var m = mode();
      if (m === 'now') { return nowInChina(); }
      if (m === 'choose') {
        return box.querySelector('#oa-day').value + ' ' + box.querySelector('#oa-hour').value;
      }
      return null;
    }
    function refresh() {
      pick.hidden = mode() !== 'choose';
      if (!C.city) { out.textContent = ''; return; }
      var sel = (SC.coverage && SC.coverage.selection) || {};
      var type = sel.service_type || vocab.defaults.service_type;
      var minutes = sel.minutes || vocab.defaults.minutes;
      var when = at(), mine = ++seq, run = C.coverage;
      if (!run || run.service_types.indexOf(type) < 0 || run.minutes.indexOf(Number(minutes)) < 0) {
        // nothing stored to ask for (the same rule as the numbers beside the map)
        out.setAttribute('data-state', 'error');
        out.textContent = T.norun;
        return;
      }
      var url = '/cities/' + encodeURIComponent(C.city) + '/coverage/panel?service_type=' +
        encodeURIComponent(type) + '&minutes=' + encodeURIComponent(minutes) + '&lang=' + SC.lang +
        (when ? '&at=' + encodeURIComponent(when) : '');
      out.setAttribute('data-at', when || '');
      out.setAttribute('data-type', type);
      out.setAttribute('data-minutes', minutes);
      out.setAttribute('data-state', 'loading');
      SC.request(url).then(function (res) {
        if (mine !== seq) { return; }
        var ok = res[0], j = res[1];
        if (!ok) {
          out.setAttribute('data-state', 'error');
          out.textContent = (j.code === 'no-run' ? T.norun : '') + ' ' + (j.detail || j.title || '');
          return;
        }
        var t = j.totals;
        out.setAttribute('data-state', 'done');
        out.setAttribute('data-residents-in', t.residents_in);
        out.setAttribute('data-residents-out', t.residents_out);
        out.innerHTML = '<div class="oa-head">' + esc(j.service_type_label) + ' · ' +
          esc(SC.fmt.whole(j.minutes)) + ' min · ' +
          (j.at ? esc(shown(j.at)) + ' (' + esc(T.at) + ')' : esc(T.allday_note)) + '</div>' +
          '<table class="oa-totals"><tr><td>' + esc(T.inside) + '</td><td>' +
          esc(SC.fmt.whole(t.residents_in)) + '</td></tr><tr><td>' + esc(T.outside) + '</td><td>' +
          esc(SC.fmt.whole(t.residents_out)) + '</td></tr><tr><td>' + esc(T.compounds) + '</td><td>' +
          esc(SC.fmt.whole(t.compounds_in)) + ' / ' + esc(SC.fmt.whole(t.compounds_out)) +
          '</td></tr></table>' + (j.at ? '<div class="oa-note">' + esc(T.layers) + '</div>' : '');
      });
    }
    Array.prototype.forEach.call(box.querySelectorAll('input, select'), function (el) {
      el.addEventListener('change', refresh);
    });
    ['#cov-type', '#cov-min'].forEach(function (id) {
      var el = body.querySelector(id);
      if (el) { el.addEventListener('change', refresh); }
    });
    refresh();
    SC.openAt = { refresh: refresh, at: at, now: nowInChina };
  }

  SC.whenReady(function () { start(SC.vocab); });
}());

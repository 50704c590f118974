/* The moment on the planners' map: a time control in the coverage section — all day /
   now / a chosen weekday and hour. A moment whose coverage run is stored (GET
   /cities/{city}/coverage?at=…: the run counting only the service points open then, the
   one the tables use) becomes the map's: the coverage layers are drawn from that run
   (tiles ?at=…) and the numbers panel, its table and its downloads follow it. A moment
   without a stored run says so, and says that the layers and figures then show the
   all-day run. Times are China Standard Time; weekdays in the OpenStreetMap
   opening_hours codes (Mo … Su). */
(function () {
  'use strict';
  var SC = window.SC, C = SC.config, esc = SC.esc;
  var DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'], NOW = 'now';
  var T = SC.i18n({
    zh: { when: '开放时段', allday: '全天', now: '现在', choose: '指定时间',
          days: ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
          allday_note: '全天：所有站点（开放时间未填视为全天开放）',
          at: '{at}：仅计当时开放的站点（地图图层与覆盖数字）',
          norun: '{at} 尚无计算结果（servicecircle analyze coverage --at）。' +
                 '地图图层与覆盖数字显示的是全天结果。',
          loading: '正在查找 {at} 的计算结果…' },
    en: { when: 'Opening hours', allday: 'All day', now: 'Now', choose: 'Choose',
          days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
          allday_note: 'All day: every station (blank hours count as always open)',
          at: '{at}: only the stations open then (map layers and coverage figures)',
          norun: 'No run for {at} yet (servicecircle analyze coverage --at). ' +
                 'The map layers and coverage figures show the all-day run.',
          loading: 'Looking for the run of {at}…' }
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

  function start() {
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
    var day = box.querySelector('#oa-day'), hour = box.querySelector('#oa-hour');

    function mode() { return box.querySelector('input[name=oa-mode]:checked').value; }
    function at() {
      var m = mode();
      if (m === 'now') { return nowInChina(); }
      if (m === 'choose') { return day.value + ' ' + hour.value; }
      return null;
    }
    /* What a link keeps: 'Mo 22:00', 'now' or '' (all day). */
    function chosen() {
      var m = mode();
      return m === 'now' ? NOW : m === 'choose' ? day.value + ' ' + hour.value : '';
    }
    function say(state, html, run) {
      out.setAttribute('data-state', state);
      out.setAttribute('data-run', run === undefined || run === null ? '' : String(run));
      out.innerHTML = html;
    }
    function refresh() {
      pick.hidden = mode() !== 'choose';
      var when = at(), mine = ++seq;
      out.setAttribute('data-at', when || '');
      SC.changed('moment');  // the link holds the choice
      if (!when || !C.city) {
        SC.coverage.moment(null);
        say('done', C.city ? '<div class="oa-note">' + esc(T.allday_note) + '</div>' : '');
        return;
      }
      say('loading', '<div class="oa-note">' + esc(T.loading.replace('{at}', shown(when))) + '</div>');
      SC.request('/cities/' + encodeURIComponent(C.city) + '/coverage?at=' +
                 encodeURIComponent(when)).then(function (res) {
        if (mine !== seq) { return; }
        var ok = res[0], j = res[1];
        if (ok) {
          SC.coverage.moment(j.at);
          say('done', '<div class="oa-head">' + esc(T.at.replace('{at}', shown(j.at))) + '</div>', j.id);
          return;
        }
        // nothing stored for this moment: the all-day run, and say so
        SC.coverage.moment(null);
        say(j.code === 'no-run' ? 'norun' : 'error', '<div class="oa-warn" role="status">' +
            esc(j.code === 'no-run' ? T.norun.replace('{at}', shown(when)) : (j.detail || j.title || '')) +
            '</div>');
      });
    }
    /* Choose as the control would (views.js: a link's view); anything else: all day. */
    function choose(value) {
      var m = /^(Mo|Tu|We|Th|Fr|Sa|Su) (\d\d:00)$/.exec(value || '');
      var want = value === NOW ? 'now' : m && hours.indexOf(m[2]) >= 0 ? 'choose' : 'allday';
      if (m && want === 'choose') { day.value = m[1]; hour.value = m[2]; }
      box.querySelector('input[name=oa-mode][value=' + want + ']').checked = true;
      refresh();
    }
    Array.prototype.forEach.call(box.querySelectorAll('input, select'), function (el) {
      el.addEventListener('change', refresh);
    });
    refresh();
    SC.openAt = { refresh: refresh, at: at, now: nowInChina, shown: shown, chosen: chosen,
                  choose: choose };
  }

  SC.whenReady(start);
}());

/* Shared by the map's scripts, loaded before them: page settings, language, the API key,
   requests, escaping and number formats, point markers, and the vocabulary.
   Codes, zh/en labels, colours and thresholds are never written in these scripts: they
   come from /vocabulary (defined once on the server) and the layer catalogue (/layers). */
(function () {
  'use strict';
  var C = JSON.parse(document.getElementById('sc-config').textContent);
  var SC = window.SC = { config: C, lang: C.lang === 'en' ? 'en' : 'zh', ready: false };

  /* Language: the table of the page's language out of {zh: …, en: …}. */
  SC.i18n = function (tables) { return tables[SC.lang] || tables.zh; };

  SC.esc = function (v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  };

  /* The API key lives in sessionStorage: gone when the browser session ends. A key an
     older version kept in localStorage is removed. */
  try { window.localStorage.removeItem('sc_api_key'); } catch (e) { /* storage disabled */ }
  SC.apiKey = function () {
    try { return window.sessionStorage.getItem('sc_api_key') || ''; } catch (e) { return ''; }
  };
  SC.saveApiKey = function (key) { window.sessionStorage.setItem('sc_api_key', key); };
  /* A key the server refused (wrong or revoked): not sent again on this page, so public
     layers keep loading; map.js says so in the page. */
  SC.keyRefused = false;
  /* Request headers: the API key if there is one (and it was not refused), plus ``extra``. */
  SC.headers = function (extra) {
    var h = {}, key = SC.apiKey();
    if (key && !SC.keyRefused) { h['X-API-Key'] = key; }
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  };
  /* A JSON request with the key; resolves to [ok, body] (body {} when not JSON). */
  SC.request = function (url, options) {
    var o = options || {};
    return fetch(url, { method: o.method || 'GET', headers: SC.headers(o.headers), body: o.body })
      .then(function (r) {
        return r.json().then(function (j) { return [r.ok, j]; }, function () { return [r.ok, {}]; });
      });
  };
  /* An image from another server (an online basemap's tile) as an ImageBitmap. */
  SC.image = function (url, abort) {
    return fetch(url, { signal: abort && abort.signal, referrerPolicy: 'no-referrer' })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.blob(); })
      .then(function (b) { return createImageBitmap(b); });
  };
  SC.postJSON = function (url, body) {
    return SC.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                             body: JSON.stringify(body) });
  };

  /* Numbers in the page's language: one decimal at most; shares (0–1) as percentages. */
  var nf = new Intl.NumberFormat(SC.lang === 'en' ? 'en' : 'zh-CN', { maximumFractionDigits: 1 });
  SC.fmt = {
    number: function (v) { return nf.format(v); },
    whole: function (v) { return nf.format(Math.round(v)); },
    percent: function (share) { return nf.format(100 * share) + ' %'; }
  };

  /* A round point marker in ``color`` with a short ``glyph`` (e.g. a service type's), as
     the data URL of an SVG image (the siting panel's dropped sites and swatches). */
  var ICON_PX = 22, icons = {};
  SC.glyphIcon = function (color, glyph) {
    var k = color + '|' + (glyph || ''), h = ICON_PX / 2;
    if (!icons[k]) {
      var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + ICON_PX + '" height="' + ICON_PX + '">' +
        '<circle cx="' + h + '" cy="' + h + '" r="' + (h - 1) + '" fill="' + SC.esc(color) +
        '" stroke="#fff" stroke-width="2"/><text x="' + h + '" y="' + (h + 4) + '" font-size="' + (h + 1) +
        '" text-anchor="middle" fill="#fff" font-family="Noto Sans CJK SC, sans-serif">' +
        SC.esc(glyph || '') + '</text></svg>';
      icons[k] = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
    }
    return icons[k];
  };

  /* A collapsible section of the side panel (drawer on phones), in call order:
     returns its body element. ``open``: expanded at start. */
  SC.section = function (id, title, open) {
    var d = document.createElement('details');
    d.className = 'sc-section';
    d.id = 'sec-' + id;
    d.open = !!open;
    d.innerHTML = '<summary>' + SC.esc(title) + '</summary><div class="sc-body"></div>';
    document.getElementById('panel').appendChild(d);
    return d.querySelector('.sc-body');
  };
  SC.openSection = function (id) { document.getElementById('sec-' + id).open = true; };

  /* The vocabulary (/vocabulary in the page's language), with look-ups by property
     column: terms('type') → the service types (built-in and added), label(column, code),
     classes(column) → legend classes {value, color, label, icon} of coloured terms. */
  function indexed(v) {
    function terms(column) {
      var kind = (v.columns || {})[column];
      return kind ? v[kind] || [] : null;
    }
    function term(column, code) {
      return (terms(column) || []).filter(function (t) { return t.code === String(code); })[0] || null;
    }
    return {
      raw: v, thresholds: v.thresholds, defaults: v.defaults,
      service_types: v.service_types, case_categories: v.case_categories,
      terms: terms, term: term,
      label: function (column, code) { var t = term(column, code); return t ? t.label : null; },
      classes: function (column) {
        var list = terms(column);
        if (!list || !list.length || !list.every(function (t) { return t.color; })) { return null; }
        return list.map(function (t) {
          return { value: t.code, color: t.color, label: t.label, icon: t.glyph };
        });
      }
    };
  }
  SC.vocabulary = SC.request('/vocabulary?lang=' + SC.lang).then(function (res) {
    if (!res[0]) { throw new Error('vocabulary: ' + (res[1].detail || res[1].title || 'failed')); }
    return indexed(res[1]);
  });

  /* Panels start once the map has its catalogue and vocabulary (map.js calls setReady). */
  var waiting = [], started = false;
  SC.whenReady = function (fn) { if (started) { fn(); } else { waiting.push(fn); } };
  SC.setReady = function () {
    started = true;
    waiting.splice(0).forEach(function (fn) { fn(); });
    SC.ready = true;
  };
}());

/* The sample browser of report.html: search, filters, order, and a full-size viewer with zoom.
   Every bit of state lives in the URL hash, so a view (even an open sample at 200%) is a link. */
(function () {
  var list = document.getElementById('samples');
  var items = Array.prototype.slice.call(list.children);
  var byId = {};
  items.forEach(function (el) { byId[el.dataset.id] = el; });
  var $ = function (id) { return document.getElementById(id); };
  var q = $('f-q'), cat = $('f-category'), status = $('f-status'), min = $('f-min'), max = $('f-max');
  var fail = $('f-failures'), sort = $('f-sort'), count = $('f-count');
  var slices = Array.prototype.slice.call(document.querySelectorAll('.f-slice'));
  var viewer = $('viewer'), opened = '', zoom = 0;  // zoom 0: fit to the viewer
  var ZOOMS = [0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8];

  function known(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; }) ? value : '';
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ''));
    q.value = p.get('q') || '';
    cat.value = known(cat, p.get('category') || '');
    status.value = known(status, p.get('status') || '');
    min.value = p.get('min') || '';
    max.value = p.get('max') || '';
    fail.checked = p.get('failures') === '1';
    sort.value = p.get('sort') === 'lowest' ? 'lowest' : 'order';
    slices.forEach(function (s) { s.value = known(s, p.get('slice.' + s.dataset.key) || ''); });
    opened = byId[p.get('open')] ? p.get('open') : '';
    zoom = parseFloat(p.get('zoom')) || 0;
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (q.value) p.set('q', q.value);
    if (cat.value) p.set('category', cat.value);
    if (status.value) p.set('status', status.value);
    if (min.value) p.set('min', min.value);
    if (max.value) p.set('max', max.value);
    if (fail.checked) p.set('failures', '1');
    if (sort.value === 'lowest') p.set('sort', 'lowest');
    slices.forEach(function (s) { if (s.value) p.set('slice.' + s.dataset.key, s.value); });
    if (opened) p.set('open', opened);
    if (opened && zoom) p.set('zoom', String(zoom));
    var h = p.toString();
    try { history.replaceState(null, '', h ? '#' + h : location.pathname + location.search); }
    catch (e) { location.hash = h; }
  }
  function score(el) { return el.dataset.score === '' ? Infinity : parseFloat(el.dataset.score); }
  function text(el) {
    if (!el._text) {
      var instr = el.querySelector('.instr'), xid = el.querySelector('.xid');
      el._text = ((instr ? instr.textContent : '') + ' ' + (xid ? xid.textContent : '') + ' ' + el.dataset.category).toLowerCase();
    }
    return el._text;
  }
  function matches(el) {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.every(function (w) { return text(el).indexOf(w) >= 0; })) return false;
    if (cat.value && el.dataset.category !== cat.value) return false;
    if (status.value && el.dataset.status !== status.value) return false;
    if (fail.checked && el.dataset.failure !== '1') return false;
    if (min.value !== '' || max.value !== '') {
      if (el.dataset.score === '') return false;
      var s = parseFloat(el.dataset.score);
      if (min.value !== '' && s < parseFloat(min.value)) return false;
      if (max.value !== '' && s > parseFloat(max.value)) return false;
    }
    var values = JSON.parse(el.dataset.slices || '{}');
    return slices.every(function (f) { return !f.value || values[f.dataset.key] === f.value; });
  }
  function apply() {
    var shown = 0;
    items.forEach(function (el) { el.hidden = !matches(el); if (!el.hidden) shown++; });
    var ordered = items.slice();
    ordered.sort(function (a, b) {
      var d = sort.value === 'lowest' ? score(a) - score(b) : 0;
      return (d === d && d !== 0) ? d : a.dataset.order - b.dataset.order;
    });
    ordered.forEach(function (el) { list.appendChild(el); });
    count.textContent = shown + ' of ' + items.length + ' samples shown';
    document.body.setAttribute('data-filter', location.hash.replace(/^#/, ''));
    show();
  }

  function show() {
    var el = byId[opened];
    viewer.hidden = !el;
    document.body.classList.toggle('viewing', !!el);
    if (!el) return;
    $('v-title').textContent = el.dataset.category + ' · ' + el.querySelector('.xid').textContent +
      (el.dataset.score ? ' · overall ' + parseFloat(el.dataset.score).toFixed(2) : ' · ' + el.dataset.status);
    $('v-instr').textContent = el.querySelector('.instr').textContent;
    var panes = $('v-images');
    panes.textContent = '';
    el.querySelectorAll('.figs figure').forEach(function (f) {
      var pane = document.createElement('figure');
      pane.className = 'v-pane';
      var link = f.querySelector('a'), full = link ? link.getAttribute('href') : '';
      if (full) {
        var box = document.createElement('div');
        box.className = 'v-scroll';
        var img = document.createElement('img');
        img.src = full;
        img.alt = f.dataset.label;
        img.className = 'v-img';
        box.appendChild(img);
        pane.appendChild(box);
      } else {
        var none = document.createElement('div');
        none.className = 'noimg';
        none.textContent = f.textContent;
        pane.appendChild(none);
      }
      var cap = document.createElement('figcaption');
      cap.textContent = f.dataset.label;
      pane.appendChild(cap);
      panes.appendChild(pane);
    });
    var judgments = $('v-judgments');
    judgments.textContent = '';
    var crit = el.querySelector('table.crit'), err = el.querySelector('.body > .err'), ref = el.querySelector('.ref');
    [ref, err, crit].forEach(function (node) { if (node) judgments.appendChild(node.cloneNode(true)); });
    judgments.querySelectorAll('details').forEach(function (d) { d.open = true; });
    setZoom(zoom);
  }
  function setZoom(z) {
    zoom = z;
    viewer.dataset.zoom = String(z || 'fit');
    $('v-level').textContent = z ? Math.round(z * 100) + '%' : 'fit';
    viewer.querySelectorAll('.v-img').forEach(function (img) {
      img.style.width = z ? (img.naturalWidth ? img.naturalWidth * z + 'px' : (z * 100) + '%') : '';
      img.classList.toggle('zoomed', !!z);
    });
  }
  function step(dir) {
    var current = zoom || 1, next = current;
    if (dir > 0) next = ZOOMS.filter(function (z) { return z > current; })[0] || ZOOMS[ZOOMS.length - 1];
    else next = ZOOMS.filter(function (z) { return z < current; }).pop() || ZOOMS[0];
    setZoom(next); writeHash();
  }
  function open(id) { opened = id; zoom = 0; writeHash(); show(); }
  function neighbour(dir) {
    var visible = Array.prototype.filter.call(list.children, function (el) { return !el.hidden; });
    var i = visible.indexOf(byId[opened]);
    var next = visible[i + dir];
    if (next) open(next.dataset.id);
  }

  [q, cat, status, min, max, fail, sort].concat(slices).forEach(function (el) {
    el.addEventListener(el === q || el === min || el === max ? 'input' : 'change', function () { writeHash(); apply(); });
  });
  list.addEventListener('click', function (e) {
    var art = e.target.closest('article.sample');
    if (!art) return;
    if (e.target.closest('button.open') || e.target.closest('.figs a')) { e.preventDefault(); open(art.dataset.id); }
  });
  $('v-close').addEventListener('click', function () { open(''); });
  $('v-in').addEventListener('click', function () { step(1); });
  $('v-out').addEventListener('click', function () { step(-1); });
  $('v-fit').addEventListener('click', function () { setZoom(0); writeHash(); });
  $('v-prev').addEventListener('click', function () { neighbour(-1); });
  $('v-next').addEventListener('click', function () { neighbour(1); });
  $('v-images').addEventListener('load', function () { setZoom(zoom); }, true);
  $('v-images').addEventListener('scroll', function (e) {  // zoomed panes move together
    var src = e.target;
    if (!src.classList || !src.classList.contains('v-scroll')) return;
    viewer.querySelectorAll('.v-scroll').forEach(function (box) {
      if (box !== src) { box.scrollLeft = src.scrollLeft; box.scrollTop = src.scrollTop; }
    });
  }, true);
  $('v-images').addEventListener('wheel', function (e) {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault(); step(e.deltaY < 0 ? 1 : -1);
  }, { passive: false });
  document.addEventListener('keydown', function (e) {
    if (viewer.hidden || e.target.tagName === 'INPUT') return;
    if (e.key === 'Escape') open('');
    else if (e.key === '+' || e.key === '=') step(1);
    else if (e.key === '-') step(-1);
    else if (e.key === '0') { setZoom(0); writeHash(); }
    else if (e.key === 'ArrowLeft') neighbour(-1);
    else if (e.key === 'ArrowRight') neighbour(1);
  });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  readHash();
  apply();
})();

(function () {
  var list = document.getElementById('samples');
  var items = Array.prototype.slice.call(list.children);
  var cat = document.getElementById('f-category'), sort = document.getElementById('f-sort');
  var count = document.getElementById('f-count');
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ''));
    var c = p.get('category') || '';
    cat.value = Array.prototype.some.call(cat.options, function (o) { return o.value === c; }) ? c : '';
    sort.value = p.get('sort') === 'diff' ? 'diff' : 'order';
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (cat.value) p.set('category', cat.value);
    if (sort.value === 'diff') p.set('sort', 'diff');
    var h = p.toString();
    try { history.replaceState(null, '', h ? '#' + h : location.pathname + location.search); }
    catch (e) { location.hash = h; }
  }
  function key(el) { return el.dataset.absdiff === '' ? -1 : parseFloat(el.dataset.absdiff); }
  function apply() {
    var shown = 0;
    items.forEach(function (el) { el.hidden = !!cat.value && el.dataset.category !== cat.value; if (!el.hidden) shown++; });
    var ordered = items.slice().sort(function (a, b) {
      var d = sort.value === 'diff' ? key(b) - key(a) : 0;
      return d !== 0 ? d : a.dataset.order - b.dataset.order;
    });
    ordered.forEach(function (el) { list.appendChild(el); });
    count.textContent = shown + ' of ' + items.length + ' items shown';
  }
  [cat, sort].forEach(function (el) { el.addEventListener('change', function () { writeHash(); apply(); }); });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  readHash(); apply();
})();

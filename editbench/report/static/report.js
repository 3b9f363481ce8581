(function () {
  var list = document.getElementById('samples');
  var items = Array.prototype.slice.call(list.children);
  var cat = document.getElementById('f-category');
  var fail = document.getElementById('f-failures');
  var sort = document.getElementById('f-sort');
  var count = document.getElementById('f-count');
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ''));
    var c = p.get('category') || '';
    cat.value = Array.prototype.some.call(cat.options, function (o) { return o.value === c; }) ? c : '';
    fail.checked = p.get('failures') === '1';
    sort.value = p.get('sort') === 'lowest' ? 'lowest' : 'order';
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (cat.value) p.set('category', cat.value);
    if (fail.checked) p.set('failures', '1');
    if (sort.value === 'lowest') p.set('sort', 'lowest');
    var h = p.toString();
    try { history.replaceState(null, '', h ? '#' + h : location.pathname + location.search); }
    catch (e) { location.hash = h; }
  }
  function score(el) { return el.dataset.score === '' ? Infinity : parseFloat(el.dataset.score); }
  function apply() {
    var shown = 0;
    items.forEach(function (el) {
      var ok = (!cat.value || el.dataset.category === cat.value) && (!fail.checked || el.dataset.failure === '1');
      el.hidden = !ok;
      if (ok) shown++;
    });
    var ordered = items.slice();
    ordered.sort(function (a, b) {
      var d = sort.value === 'lowest' ? score(a) - score(b) : 0;
      return (d === d && d !== 0) ? d : a.dataset.order - b.dataset.order;
    });
    ordered.forEach(function (el) { list.appendChild(el); });
    count.textContent = shown + ' of ' + items.length + ' samples shown';
    document.body.setAttribute('data-filter', location.hash.replace(/^#/, ''));
  }
  [cat, fail, sort].forEach(function (el) { el.addEventListener('change', function () { writeHash(); apply(); }); });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  readHash();
  apply();
})();

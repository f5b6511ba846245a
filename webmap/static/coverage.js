/* warmheart station planner: streets by minutes to the nearest open station, ranked gaps,
 * the hour-of-week table and siting proposals (adopt / reject with the admin token).
 *
 * Security rule as in warmheart.js: every string from the API (host names, ids) is put in
 * the page with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var WH = (window.warmheart = window.warmheart || {});
  // Colour-blind-aware bands (green -> amber -> red): within 1st, 2nd, 3rd budget, beyond.
  var BAND_COLOURS = ["#1a9850", "#91cf60", "#fdae61", "#d73027"];
  var DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

  function $(id) {
    return document.getElementById(id);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function pct(x) {
    return (100 * x).toFixed(1) + " %";
  }

  WH.coverage = function (map, o) {
    var M = o.messages || {};
    var gcj = o.datum === "gcj02" && WH.wgs2gcj;
    var doc = document.documentElement;
    function msg(key, params) {
      var text = M[key] || key;
      return String(text).replace(/\{(\w+)\}/g, function (m, k) {
        return params && params[k] !== undefined ? params[k] : m;
      });
    }
    function ll(lon, lat) {
      if (gcj) {
        var p = WH.wgs2gcj(lon, lat);
        return [p[1], p[0]];
      }
      return [lat, lon];
    }
    function setStatus(id, text, isError) {
      var box = $(id);
      box.textContent = text || "";
      box.classList.toggle("wh-error", !!isError);
    }
    function getJSON(url) {
      return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error((body.error && body.error.message) || r.statusText);
          return body;
        });
      });
    }
    if (o.bounds) map.fitBounds(o.bounds, { padding: [20, 20] });
    var renderer = L.canvas({ padding: 0.3 });
    var bands = L.layerGroup().addTo(map);
    var gapLayer = L.layerGroup().addTo(map);
    var siteLayer = L.layerGroup().addTo(map);
    var proposal = null;

    function params() {
      var q = new URLSearchParams();
      q.set("kind", $("wh-cov-kind").value);
      var day = $("wh-cov-day").value;
      if (day) {
        var h = String($("wh-cov-hour").value).padStart(2, "0");
        q.set("at", day + " " + h + ":00");
      }
      return q;
    }

    function drawLegend(minutes) {
      var box = $("wh-cov-legend");
      box.textContent = "";
      var labels = minutes.map(function (m) {
        return msg("cov.within", { minutes: m });
      });
      labels.push(msg("cov.beyond", { minutes: minutes[minutes.length - 1] }));
      labels.forEach(function (label, i) {
        var li = el("li");
        var sw = el("span", "wh-swatch");
        sw.style.background = BAND_COLOURS[Math.min(i, BAND_COLOURS.length - 1)];
        li.appendChild(sw);
        li.appendChild(document.createTextNode(label));
        box.appendChild(li);
      });
    }

    function drawStreets(fc) {
      bands.clearLayers();
      var pieces = 0;
      fc.features.forEach(function (f) {
        var colour = BAND_COLOURS[Math.min(f.properties.band, BAND_COLOURS.length - 1)];
        var lines = f.geometry.coordinates.map(function (line) {
          pieces += 1;
          return line.map(function (p) {
            return ll(p[0], p[1]);
          });
        });
        if (lines.length) {
          L.polyline(lines, { color: colour, weight: 3, opacity: 0.9, renderer: renderer })
            .bindTooltip(f.properties.label, { sticky: true })
            .addTo(bands);
        }
      });
      doc.setAttribute("data-wh-cov-pieces", String(pieces));
    }

    function drawSummary(data) {
      var table = $("wh-cov-table");
      var head = table.tHead;
      head.textContent = "";
      var row = el("tr");
      row.appendChild(el("th", null, msg("cov.layer")));
      data.minutes.forEach(function (m) {
        row.appendChild(el("th", "wh-num", msg("cov.within", { minutes: m })));
      });
      head.appendChild(row);
      var body = table.tBodies[0];
      body.textContent = "";
      data.layers.forEach(function (layer) {
        var tr = el("tr");
        tr.setAttribute("data-wh-layer", layer.layer);
        tr.appendChild(el("th", null, msg("cov.layer." + layer.layer)));
        layer.budgets.forEach(function (b) {
          tr.appendChild(el("td", "wh-num", pct(b.share)));
        });
        body.appendChild(tr);
      });
      setStatus("wh-cov-status", msg("cov.stations_open", { count: data.stations }));
      var list = $("wh-cov-gaps");
      list.textContent = "";
      gapLayer.clearLayers();
      data.gaps.forEach(function (gap) {
        var ring = gap.polygon.map(function (p) {
          return ll(p[0], p[1]);
        });
        var poly = L.polygon(ring, { color: "#7b3294", weight: 2, fillOpacity: 0.15 }).addTo(gapLayer);
        poly.bindTooltip("#" + gap.rank);
        var parts = Object.keys(gap.layers).map(function (name) {
          var amount = Math.round(gap.layers[name].uncovered);
          return msg("cov.layer." + name) + " " + amount.toLocaleString();
        });
        var li = el("li", null, parts.join(" · "));
        li.setAttribute("data-wh-gap", String(gap.rank));
        li.addEventListener("click", function () {
          map.fitBounds(poly.getBounds(), { padding: [40, 40], animate: false });
        });
        list.appendChild(li);
      });
      doc.setAttribute("data-wh-gaps", String(data.gaps.length));
    }

    function drawHours(data) {
      var box = $("wh-cov-hours");
      box.textContent = "";
      var budgets = data.layers[0].budgets;
      var table = budgets[budgets.length - 1].share;
      box.appendChild(el("span"));
      for (var h = 0; h < 24; h++) box.appendChild(el("span", null, h % 6 === 0 ? h : ""));
      table.forEach(function (row, d) {
        box.appendChild(el("span", null, msg("cov.day." + DAYS[d])));
        row.forEach(function (share, h) {
          var cell = el("span", "wh-cell");
          cell.style.background = "hsl(" + Math.round(120 * share) + ", 70%, " + (80 - 30 * share) + "%)";
          cell.title = msg("cov.day." + DAYS[d]) + " " + h + ":00 · " + pct(share);
          cell.addEventListener("click", function () {
            $("wh-cov-day").value = DAYS[d];
            $("wh-cov-hour").value = String(h);
            refresh();
          });
          box.appendChild(cell);
        });
      });
      doc.setAttribute("data-wh-hours", String(data.distinct_open_sets));
    }

    var pending = 0;
    function refresh() {
      var mine = ++pending;
      $("wh-cov-hour-out").textContent = String($("wh-cov-hour").value).padStart(2, "0") + ":00";
      doc.removeAttribute("data-wh-ready");
      setStatus("wh-cov-status", msg("cov.loading"));
      var q = params();
      Promise.all([getJSON(o.api.coverage + "?" + q), getJSON(o.api.streets + "?" + q)])
        .then(function (res) {
          if (mine !== pending) return;
          drawLegend(res[0].minutes);
          drawSummary(res[0]);
          drawStreets(res[1]);
          doc.setAttribute("data-wh-ready", "1");
        })
        .catch(function (e) {
          setStatus("wh-cov-status", msg("cov.error", { message: e.message }), true);
        });
    }

    function refreshHours() {
      var q = new URLSearchParams({ kind: $("wh-cov-kind").value });
      getJSON(o.api.hours + "?" + q)
        .then(drawHours)
        .catch(function () {});
    }

    function post(url, body) {
      return fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: "Bearer " + $("wh-site-token").value,
        },
        body: JSON.stringify(body),
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) throw new Error((data.error && data.error.message) || r.statusText);
          return data;
        });
      });
    }

    function drawProposal(data) {
      proposal = data;
      var body = $("wh-site-table").tBodies[0];
      body.textContent = "";
      siteLayer.clearLayers();
      data.sites.forEach(function (s) {
        var tr = el("tr");
        tr.setAttribute("data-wh-site", s.id);
        var box = el("input");
        box.type = "checkbox";
        box.checked = true;
        box.value = s.id;
        var td = el("td");
        td.appendChild(box);
        tr.appendChild(td);
        tr.appendChild(el("td", null, s.rank + ". " + (s.name || s.id)));
        tr.appendChild(el("td", "wh-num", msg("cov.gain", { gain: Math.round(s.gain * 100) / 100 })));
        body.appendChild(tr);
        if (s.lon !== null) {
          L.circleMarker(ll(s.lon, s.lat), { radius: 9, color: "#fff", weight: 2, fillColor: "#2c7bb6", fillOpacity: 1 })
            .bindTooltip(s.rank + ". " + (s.name || s.id))
            .addTo(siteLayer);
        }
      });
      var after = data.after.share !== undefined ? pct(data.after.share) : Math.round(data.after.mean_cost * 100) / 100;
      var certificate = data.optimal ? msg("cov.optimal") : msg("cov.gap_pct", { gap: pct(data.gap) });
      setStatus("wh-site-status", msg("cov.proposed", { count: data.sites.length, after: after }) + " · " + certificate);
      $("wh-site-actions").hidden = !data.sites.length;
      doc.setAttribute("data-wh-sites", String(data.sites.length));
    }

    $("wh-site-run").addEventListener("click", function () {
      setStatus("wh-site-status", msg("cov.loading"));
      post(o.api.site, {
        objective: $("wh-site-objective").value,
        add: parseInt($("wh-site-add").value, 10),
        minutes: parseFloat($("wh-site-minutes").value),
        kind: $("wh-cov-kind").value,
      })
        .then(drawProposal)
        .catch(function (e) {
          setStatus("wh-site-status", msg("cov.error", { message: e.message }), true);
        });
    });
    $("wh-site-adopt").addEventListener("click", function () {
      if (!proposal) return;
      var ids = Array.prototype.map.call(
        document.querySelectorAll("#wh-site-table input:checked"),
        function (b) {
          return b.value;
        }
      );
      post(o.api.adopt, { proposal_id: proposal.proposal_id, ids: ids })
        .then(function (data) {
          setStatus("wh-site-status", msg("cov.adopted", { count: data.added.length }));
          $("wh-site-actions").hidden = true;
          siteLayer.clearLayers();
          refresh();
          refreshHours();
        })
        .catch(function (e) {
          setStatus("wh-site-status", msg("cov.error", { message: e.message }), true);
        });
    });
    $("wh-site-reject").addEventListener("click", function () {
      proposal = null;
      $("wh-site-table").tBodies[0].textContent = "";
      siteLayer.clearLayers();
      $("wh-site-actions").hidden = true;
      setStatus("wh-site-status", msg("cov.rejected"));
    });
    $("wh-cov-kind").addEventListener("change", function () {
      refresh();
      refreshHours();
    });
    $("wh-cov-day").addEventListener("change", refresh);
    $("wh-cov-hour").addEventListener("change", refresh);
    $("wh-cov-hour").addEventListener("input", function () {
      $("wh-cov-hour-out").textContent = String($("wh-cov-hour").value).padStart(2, "0") + ":00";
    });
    WH.map = map;
    refresh();
    refreshHours();
  };
})();

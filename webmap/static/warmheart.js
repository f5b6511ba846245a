/* warmheart front end: the locator (stations, filters, nearest, walking route) and the planner.
 *
 * Security rule: data (station names, hours, addresses...) is only ever put in the page with
 * textContent / createTextNode, never innerHTML. The only HTML strings we hand to Leaflet are
 * the planner popups, which the server builds with markupsafe.escape.
 */
(function () {
  "use strict";

  var WH = (window.warmheart = window.warmheart || {});

  // ------------------------------------------------------------------ WGS-84 <-> GCJ-02
  // The offset datum of Chinese web maps (AutoNavi, Tencent). Same formulas as
  // stations/coords.py; outside China the datums coincide.
  var GCJ_A = 6378245.0;
  var GCJ_EE = 0.00669342162296594323;

  function outOfChina(lon, lat) {
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }
  function transformLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
    r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
    return r;
  }
  function transformLon(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
    r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
    return r;
  }
  WH.wgs2gcj = function (lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var dLat = transformLat(lon - 105.0, lat - 35.0);
    var dLon = transformLon(lon - 105.0, lat - 35.0);
    var radLat = (lat / 180.0) * Math.PI;
    var magic = Math.sin(radLat);
    magic = 1 - GCJ_EE * magic * magic;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / (((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtMagic)) * Math.PI);
    dLon = (dLon * 180.0) / ((GCJ_A / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  };
  WH.gcj2wgs = function (lon, lat) {
    // Fixed-point iteration; converges to ~1e-9 degrees in a few steps.
    var x = lon, y = lat;
    for (var i = 0; i < 8; i++) {
      var g = WH.wgs2gcj(x, y);
      x += lon - g[0];
      y += lat - g[1];
    }
    return [x, y];
  };

  function projector(datum) {
    var gcj = datum === "gcj02";
    return {
      toMap: function (lon, lat) {
        var p = gcj ? WH.wgs2gcj(lon, lat) : [lon, lat];
        return L.latLng(p[1], p[0]);
      },
      fromMap: function (ll) {
        return gcj ? WH.gcj2wgs(ll.lng, ll.lat) : [ll.lng, ll.lat];
      },
    };
  }

  // Padding that keeps fitted bounds clear of the panel covering part of the map.
  function viewPadding(map) {
    var pad = { paddingTopLeft: [30, 30], paddingBottomRight: [30, 30], maxZoom: 17 };
    var panel = document.getElementById("wh-panel");
    if (!panel) return pad;
    var m = map.getContainer().getBoundingClientRect();
    var p = panel.getBoundingClientRect();
    if (!p.width || !p.height) return pad;
    if (p.width >= m.width * 0.8) {
      pad.paddingBottomRight = [30, Math.max(30, m.bottom - p.top + 20)];
    } else if (p.left - m.left < m.width / 2) {
      pad.paddingTopLeft = [Math.max(30, p.right - m.left + 20), 30];
    }
    return pad;
  }
  WH.viewPadding = viewPadding;

  function addScale(map) {
    L.control.scale({ position: "bottomright", imperial: false, maxWidth: 120 }).addTo(map);
  }

  // Offline street basemap (tiles "none"): the Area's walkable streets as thin lines on the
  // map's canvas, under everything else. `source` is a URL or the data itself.
  var STREET_STYLE = [
    { color: "#ffffff", weight: 5, casing: "#c9cdc4", minZoom: 0 },
    { color: "#ffffff", weight: 3, casing: null, minZoom: 0 },
    { color: "#bcc2b6", weight: 1, casing: null, minZoom: 16 },
  ];
  function addBasemap(map, source, proj) {
    if (!source) return;
    function draw(data) {
      var pane = map.createPane("wh-streets");
      pane.style.zIndex = 250;
      pane.style.pointerEvents = "none";
      var renderer = L.canvas({ pane: "wh-streets" });
      // One multi-polyline per class: a handful of canvas layers instead of thousands, and
      // footpaths only when zoomed in, keep zooming and panning cheap.
      var byClass = STREET_STYLE.map(function () {
        return [];
      });
      data.lines.forEach(function (line) {
        var latlngs = [];
        for (var i = 1; i + 1 < line.length; i += 2) latlngs.push(proj.toMap(line[i], line[i + 1]));
        (byClass[line[0]] || byClass[1]).push(latlngs);
      });
      var always = [];
      var zoomed = [];
      var fills = [];
      for (var c = STREET_STYLE.length - 1; c >= 0; c--) {
        if (!byClass[c].length) continue;
        var st = STREET_STYLE[c];
        var opts = { renderer: renderer, interactive: false, color: st.color, weight: st.weight, lineCap: "round", lineJoin: "round", smoothFactor: 1.5 };
        if (st.casing) always.push(L.polyline(byClass[c], L.extend({}, opts, { color: st.casing, weight: st.weight + 2 })));
        (st.minZoom ? zoomed : fills).push(L.polyline(byClass[c], opts));
      }
      var base = L.layerGroup(always.concat(fills)).addTo(map);
      var detail = L.layerGroup(zoomed);
      function toggle() {
        var show = map.getZoom() >= 16;
        if (show && !map.hasLayer(detail)) {
          detail.addTo(map);
          base.eachLayer(function (l) {
            l.bringToFront();
          });
        } else if (!show && map.hasLayer(detail)) {
          map.removeLayer(detail);
        }
      }
      map.on("zoomend", toggle);
      toggle();
      if (data.attribution && map.attributionControl) map.attributionControl.addAttribution(data.attribution);
      document.documentElement.setAttribute("data-wh-streets", String(data.lines.length));
    }
    if (typeof source === "string") {
      fetch(source, { headers: { Accept: "application/json" } })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (data) draw(data);
        })
        .catch(function () {});
    } else {
      draw(source);
    }
  }
  WH.addBasemap = addBasemap;

  // ------------------------------------------------------------------------- DOM helpers
  function $(id) {
    return document.getElementById(id);
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmt(message, params) {
    return String(message).replace(/\{(\w+)\}/g, function (m, k) {
      return params && k in params ? params[k] : m;
    });
  }
  // The view and filters of a page come from its own URL (the server checked them and
  // serves one cached page for every view): center=lon,lat, zoom=, kind=, amenity=.
  function urlView() {
    var q = new URLSearchParams(window.location.search);
    function list(name) {
      var out = [];
      q.getAll(name).forEach(function (v) {
        v.split(",").forEach(function (w) {
          if (w.trim()) out.push(w.trim());
        });
      });
      return out;
    }
    var c = (q.get("center") || "").split(",");
    var center = c.length === 2 && isFinite(parseFloat(c[0])) && isFinite(parseFloat(c[1])) ? [parseFloat(c[0]), parseFloat(c[1])] : null;
    var zoom = parseInt(q.get("zoom") || "", 10);
    return { center: center, zoom: isFinite(zoom) ? zoom : null, kinds: list("kind"), amenities: list("amenity") };
  }
  function applyView(map, view, proj, fallbackZoom) {
    if (!view.center && view.zoom === null) return false;
    var at = view.center ? proj.toMap(view.center[0], view.center[1]) : map.getCenter();
    map.setView(at, view.zoom !== null ? view.zoom : fallbackZoom, { animate: false });
    return true;
  }
  // An instant as the API reads it: the phone's own clock, UTC (each station reads it in its
  // own time zone on the server).
  function nowInstant() {
    return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  function svgIcon(amenity) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "wh-icon");
    svg.setAttribute("aria-hidden", "true");
    var use = document.createElementNS(ns, "use");
    use.setAttribute("href", "#wh-i-" + amenity);
    svg.appendChild(use);
    return svg;
  }
  WH.urlView = urlView;

  // ------------------------------------------------------------------------------ locator
  WH.locator = function (map, o) {
    if (window.performance && performance.mark) performance.mark("wh-locator-start");
    var M = o.messages || {};
    var T = o.stations;
    var rows = T.rows;
    var proj = projector(o.datum);
    var colours = o.colours || {};
    var state = { origin: null, results: [], selected: -1 };
    var doc = document.documentElement;
    WH.map = map;

    function msg(key, params) {
      return fmt(M[key] !== undefined ? M[key] : key, params);
    }
    function kindName(row) {
      return T.kinds[row[3]];
    }
    function colourOf(kind) {
      return colours[kind] || "#495057";
    }
    function setStatus(text, isError) {
      var s = $("wh-status");
      if (!s) return;
      s.textContent = text;
      s.classList.toggle("wh-error", !!isError);
    }

    // Popup content for one station row, built with textContent only.
    function stationCard(row, extra) {
      var box = el("div", "wh-popup");
      var title = el("strong", "wh-popup-title", row[5]);
      title.style.color = colourOf(kindName(row));
      box.appendChild(title);
      box.appendChild(el("div", "wh-kind", msg("kind." + kindName(row))));
      var dl = el("dl");
      function add(label, value) {
        if (value === null || value === undefined || value === "") return;
        dl.appendChild(el("dt", null, label));
        dl.appendChild(el("dd", null, value));
      }
      if (row[6] >= 0) add(msg("host"), msg("host." + T.hosts[row[6]]));
      var names = [];
      for (var i = 0; i < T.amenities.length; i++) {
        if (row[4] & (1 << i)) names.push(msg("amenity." + T.amenities[i]));
      }
      if (names.length) add(msg("amenities"), names.join(" · "));
      add(msg("opening_hours"), row[7] >= 0 ? T.hours[row[7]] : msg("hours_unknown"));
      if (T.access[row[8]] === "employees") add("", msg("access.employees"));
      if (extra) extra(dl, add);
      box.appendChild(dl);
      return box;
    }

    // -- markers: circle markers in a chunk-loading cluster group
    // SVG circles: with clustering only a few hundred are on screen at once, and re-clustering
    // on zoom measured faster than with a canvas renderer (benchmarks/bench_pages.py).
    var renderer = L.svg({ padding: 0.3 });
    var cluster = L.markerClusterGroup({
      chunkedLoading: true,
      chunkInterval: 120,
      chunkDelay: 20,
      disableClusteringAtZoom: 17,
      spiderfyOnMaxZoom: false,
      showCoverageOnHover: false,
      removeOutsideVisibleBounds: true,
      chunkProgress: function (done, total) {
        if (done >= total) {
          setTimeout(function () {
            doc.setAttribute("data-wh-markers", String(total));
            doc.setAttribute("data-wh-ready", "1");
          }, 0);
        }
      },
    });
    map.addLayer(cluster);
    var markers = new Array(rows.length);
    var byId = {};
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var m = L.circleMarker(proj.toMap(r[1], r[2]), {
        renderer: renderer,
        radius: 9,
        weight: 3,
        color: "#ffffff",
        fillColor: colourOf(T.kinds[r[3]]),
        fillOpacity: 1,
      });
      m.whRow = r;
      markers[i] = m;
      byId[r[0]] = m;
    }
    if (window.performance && performance.mark) performance.mark("wh-markers-built");
    var popup = L.popup({ maxWidth: 300, autoPanPadding: [20, 20] });
    addScale(map);
    addBasemap(map, o.basemap, proj);
    var view = urlView();
    var viewed = applyView(map, view, proj, 16);
    if (o.fit && !viewed) {
      var fitBox = L.latLngBounds(proj.toMap(o.fit[0][1], o.fit[0][0]), proj.toMap(o.fit[1][1], o.fit[1][0]));
      var fitPad = viewPadding(map);
      fitPad.maxZoom = 16;
      map.fitBounds(fitBox, fitPad);
    }
    var tip = L.tooltip({ direction: "top", offset: [0, -8] });
    function openStation(m, extra) {
      var pad = viewPadding(map);
      popup.options.autoPanPaddingTopLeft = L.point(pad.paddingTopLeft);
      popup.options.autoPanPaddingBottomRight = L.point(pad.paddingBottomRight);
      popup.setLatLng(m.getLatLng()).setContent(stationCard(m.whRow, extra)).openOn(map);
    }
    WH.stationLonLat = function (id) {
      var m = byId[id];
      return m ? [m.whRow[1], m.whRow[2]] : null;
    };
    WH.openStation = function (id) {
      var m = byId[id];
      if (!m) return false;
      map.setView(m.getLatLng(), Math.max(map.getZoom(), 17), { animate: false });
      openStation(m);
      return true;
    };
    cluster.on("click", function (e) {
      if (e.layer && e.layer.whRow) openStation(e.layer);
    });
    cluster.on("mouseover", function (e) {
      if (!e.layer || !e.layer.whRow) return;
      tip.setLatLng(e.layer.getLatLng()).setContent(document.createTextNode(e.layer.whRow[5]));
      map.openTooltip(tip);
    });
    cluster.on("mouseout", function () {
      map.closeTooltip(tip);
    });

    // -- filters
    var form = $("wh-filters");
    var fixedKinds = o.kinds && o.kinds.length ? o.kinds : null;
    function chosen(name) {
      if (!form) return [];
      var out = [];
      var inputs = form.querySelectorAll('input[name="' + name + '"]');
      for (var j = 0; j < inputs.length; j++) if (inputs[j].checked) out.push(inputs[j].value);
      return out;
    }
    function selectedKinds() {
      if (!form) return fixedKinds || T.kinds.slice();
      return chosen("kind");
    }
    function amenityMask(list) {
      var mask = 0;
      for (var j = 0; j < list.length; j++) {
        var idx = T.amenities.indexOf(list[j]);
        if (idx >= 0) mask |= 1 << idx;
      }
      return mask;
    }
    var shownCount = 0;
    function applyFilters(first) {
      var kinds = selectedKinds();
      var mask = amenityMask(chosen("amenity"));
      var ok = {};
      for (var j = 0; j < kinds.length; j++) ok[T.kinds.indexOf(kinds[j])] = true;
      var shown = [];
      for (var n = 0; n < markers.length; n++) {
        var row = markers[n].whRow;
        if (ok[row[3]] && (row[4] & mask) === mask) shown.push(markers[n]);
      }
      shownCount = shown.length;
      doc.removeAttribute("data-wh-ready");
      if (!first) cluster.clearLayers();
      cluster.addLayers(shown);
      if (!shown.length) {
        doc.setAttribute("data-wh-markers", "0");
        doc.setAttribute("data-wh-ready", "1");
      }
      var count = $("wh-count");
      if (count) count.textContent = msg("stations_shown", { shown: shown.length, count: rows.length });
    }
    if (form && (view.kinds.length || view.amenities.length)) {
      var boxes = form.querySelectorAll("input[type=checkbox]");
      for (var b = 0; b < boxes.length; b++) {
        var box = boxes[b];
        if (box.name === "kind" && view.kinds.length) box.checked = view.kinds.indexOf(box.value) >= 0;
        if (box.name === "amenity") box.checked = view.amenities.indexOf(box.value) >= 0;
      }
    }
    if (form) {
      form.addEventListener("change", function () {
        applyFilters(false);
        if (state.origin) search(state.origin[0], state.origin[1]);
      });
    }
    var openNow = $("wh-open-now");
    if (openNow) {
      openNow.addEventListener("change", function () {
        if (state.origin) search(state.origin[0], state.origin[1]);
      });
    }
    var whole = $("wh-whole-map");
    function showWholeMap() {
      var b = o.area_bounds;
      if (!b) return;
      map.fitBounds(L.latLngBounds(proj.toMap(b[0], b[1]), proj.toMap(b[2], b[3])), viewPadding(map));
    }
    if (whole) whole.addEventListener("click", showWholeMap);
    WH.showWholeMap = showWholeMap;
    applyFilters(true);
    if (window.performance && performance.mark) performance.mark("wh-cluster-started");

    // -- origin, nearest and routes
    var originMarker = null;
    var routeLayer = L.layerGroup().addTo(map);
    function drawRoute(result, fit) {
      routeLayer.clearLayers();
      doc.removeAttribute("data-wh-route");
      if (!result || !result.route || !result.route.coordinates) return;
      var latlngs = result.route.coordinates.map(function (c) {
        return proj.toMap(c[0], c[1]);
      });
      if (state.origin) latlngs.unshift(proj.toMap(state.origin[0], state.origin[1]));
      L.polyline(latlngs, { color: "#ffffff", weight: 9, opacity: 0.9, interactive: false }).addTo(routeLayer);
      var line = L.polyline(latlngs, {
        color: "#1c7ed6",
        weight: 5,
        opacity: 1,
        interactive: false,
        className: "wh-route",
      }).addTo(routeLayer);
      // Ring the destination: it may sit inside a cluster at this zoom.
      var dest = result.station && result.station.geometry && result.station.geometry.coordinates;
      if (dest) {
        L.circleMarker(proj.toMap(dest[0], dest[1]), {
          radius: 15,
          weight: 4,
          color: "#1c7ed6",
          fill: false,
          interactive: false,
        }).addTo(routeLayer);
      }
      doc.setAttribute("data-wh-route", String(latlngs.length));
      if (fit) map.fitBounds(line.getBounds(), viewPadding(map));
    }
    function distanceText(m) {
      if (m >= 1000) return msg("kilometers", { km: (m / 1000).toFixed(1) });
      return msg("meters", { meters: Math.round(m) });
    }
    function openLabel(open) {
      if (open === true) return [msg("open_now"), "wh-open"];
      if (open === false) return [msg("closed_now"), "wh-closed"];
      return [msg("hours_unknown"), "wh-unknown"];
    }
    function select(index, fit, showPopup) {
      state.selected = index;
      var items = document.querySelectorAll("#wh-results > li");
      for (var j = 0; j < items.length; j++) items[j].classList.toggle("wh-selected", j === index);
      var result = state.results[index];
      drawRoute(result, fit);
      if (!result) return;
      var m = byId[result.station.id];
      if (m && showPopup) {
        openStation(m, function (dl, add) {
          add(msg("nearest_title"), msg("walk_minutes", { minutes: Math.max(1, Math.round(result.walk_time_s / 60)) }));
        });
      }
    }
    // "Today 09:00–17:00" / "Opens tomorrow 09:00" from the API's station-local figures.
    function localParts(iso) {
      // "2026-01-15T09:00+08:00" -> {day: "2026-01-15", time: "09:00"}: local at the station.
      var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso || "");
      return m ? { day: m[1], time: m[2] } : null;
    }
    var DAY_KEYS = ["su", "mo", "tu", "we", "th", "fr", "sa"];
    function hoursLine(res) {
      var now = localParts(res.local_time);
      var next = localParts(res.next_change);
      if (res.open === false && next && now) {
        if (next.day === now.day) return msg("opens_at", { time: next.time });
        var d0 = new Date(now.day + "T00:00:00Z");
        var d1 = new Date(next.day + "T00:00:00Z");
        var days = Math.round((d1 - d0) / 86400000);
        if (days === 1) return msg("opens_tomorrow", { time: next.time });
        return msg("opens_on", { day: msg("day." + DAY_KEYS[d1.getUTCDay()]), time: next.time });
      }
      if (res.hours_today) {
        if (!res.hours_today.length) return msg("closed_today");
        var h0 = res.hours_today[0];
        if (res.hours_today.length === 1 && h0[0] === "00:00" && h0[1] === "24:00") return msg("open_all_day");
        var spans = res.hours_today.map(function (h) {
          return h[0] + "–" + h[1];
        });
        var text = msg("today_hours", { hours: spans.join(", ") });
        if (res.open === true && next && now && next.day === now.day) text += " · " + msg("closes_at", { time: next.time });
        return text;
      }
      return "";
    }
    function amenityRow(mask) {
      var box = el("span", "wh-amenities");
      for (var i = 0; i < T.amenities.length; i++) {
        if (!(mask & (1 << i))) continue;
        var chip = el("span", "wh-amenity");
        chip.appendChild(svgIcon(T.amenities[i]));
        chip.appendChild(el("span", null, msg("amenity." + T.amenities[i])));
        box.appendChild(chip);
      }
      return box;
    }
    function clearResults(text, isError) {
      var list = $("wh-results");
      if (list) while (list.firstChild) list.removeChild(list.firstChild);
      state.results = [];
      routeLayer.clearLayers();
      doc.removeAttribute("data-wh-route");
      setStatus(text, isError);
    }
    function renderResults(data) {
      var list = $("wh-results");
      if (!list) return;
      while (list.firstChild) list.removeChild(list.firstChild);
      state.results = data.results || [];
      if (whole) whole.hidden = true;
      if (!state.results.length) {
        var code = data.reason_code;
        var text = code === "outside_area" ? msg("reason.outside_area") : code === "off_map" ? msg("reason.off_network") : msg("no_results");
        clearResults(text, true);
        if (code === "outside_area" && whole) whole.hidden = false;
        doc.setAttribute("data-wh-results", "0");
        doc.setAttribute("data-wh-reason", code || "");
        return;
      }
      setStatus(msg("nearest_title"));
      state.results.forEach(function (res, idx) {
        var p = res.station.properties || {};
        var li = el("li");
        li.setAttribute("data-wh-id", res.station.id);
        var btn = el("button", "wh-result");
        btn.type = "button";
        var head = el("span", "wh-result-head");
        var dot = el("span", "wh-dot");
        dot.style.background = colourOf(p.kind);
        head.appendChild(dot);
        head.appendChild(el("span", "wh-result-name", p.name));
        btn.appendChild(head);
        var meta = el("span", "wh-result-meta");
        meta.appendChild(el("span", "wh-walk", msg("walk_minutes", { minutes: Math.max(1, Math.round(res.walk_time_s / 60)) })));
        meta.appendChild(el("span", "wh-dist", distanceText(res.walk_distance_m)));
        var ol = openLabel(res.open);
        meta.appendChild(el("span", "wh-badge " + ol[1], ol[0]));
        btn.appendChild(meta);
        var line = hoursLine(res);
        if (line) btn.appendChild(el("span", "wh-result-hours", line));
        var row = byId[res.station.id] && byId[res.station.id].whRow;
        if (row && row[4]) btn.appendChild(amenityRow(row[4]));
        if (p.address) btn.appendChild(el("span", "wh-result-address", p.address));
        btn.addEventListener("click", function () {
          select(idx, true, true);
        });
        li.appendChild(btn);
        list.appendChild(li);
      });
      select(0, true, false);
      doc.setAttribute("data-wh-results", String(state.results.length));
    }
    function search(lon, lat) {
      state.origin = [lon, lat];
      var ll = proj.toMap(lon, lat);
      if (!originMarker) {
        originMarker = L.circleMarker(ll, {
          radius: 10,
          weight: 4,
          color: "#ffffff",
          fillColor: "#1c7ed6",
          fillOpacity: 1,
          interactive: false,
        }).addTo(map);
      } else {
        originMarker.setLatLng(ll);
      }
      doc.removeAttribute("data-wh-results");
      doc.removeAttribute("data-wh-reason");
      // Only the latest search may draw: an answer to an older one (a filter changed while
      // it was on its way) is dropped, and the request itself is cancelled.
      var seq = (state.searchSeq = (state.searchSeq || 0) + 1);
      if (state.searchAbort) state.searchAbort.abort();
      state.searchAbort = window.AbortController ? new AbortController() : null;
      var kinds = selectedKinds();
      if (!kinds.length) {
        // Nothing to look for: the map shows no station, neither may the list.
        clearResults(msg("choose_kind"), true);
        doc.setAttribute("data-wh-results", "0");
        return;
      }
      setStatus(msg("searching"));
      var params = new URLSearchParams();
      params.set("lon", lon.toFixed(6));
      params.set("lat", lat.toFixed(6));
      params.set("k", String(o.k || 5));
      if (o.lang) params.set("lang", o.lang);
      if (kinds.length < T.kinds.length) params.set("kind", kinds.join(","));
      var amen = chosen("amenity");
      if (amen.length) params.set("amenity", amen.join(","));
      var instant = nowInstant();
      params.set("at", instant);
      var openBox = $("wh-open-now");
      if (!openBox || openBox.checked) params.set("open_at", instant);
      fetch(o.api + "/nearest?" + params.toString(), {
        headers: { Accept: "application/json" },
        signal: state.searchAbort ? state.searchAbort.signal : undefined,
      })
        .then(function (resp) {
          return resp.json().then(function (body) {
            return { ok: resp.ok, body: body };
          });
        })
        .then(function (r) {
          if (seq !== state.searchSeq) return; // a newer search owns the list
          if (!r.ok) {
            var m = r.body && r.body.error ? r.body.error.message : msg("network_error");
            setStatus(m, true);
            doc.setAttribute("data-wh-results", "0");
            return;
          }
          renderResults(r.body);
        })
        .catch(function () {
          if (seq !== state.searchSeq) return; // cancelled by a newer search
          setStatus(msg("network_error"), true);
        });
    }
    WH.search = search;
    map.on("click", function (e) {
      var p = proj.fromMap(e.latlng);
      search(p[0], p[1]);
      var panel = $("wh-panel");
      if (panel) panel.classList.remove("wh-collapsed");
    });

    var near = $("wh-near-me");
    if (near) {
      near.addEventListener("click", function () {
        if (!navigator.geolocation) {
          setStatus(msg("geo_denied"), true);
          return;
        }
        setStatus(msg("locating"));
        navigator.geolocation.getCurrentPosition(
          function (pos) {
            search(pos.coords.longitude, pos.coords.latitude);
          },
          function () {
            setStatus(msg("geo_denied"), true);
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    }

    var toggle = $("wh-filters-toggle");
    if (toggle && form) {
      toggle.addEventListener("click", function () {
        var open = form.hidden;
        form.hidden = !open;
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    var grip = $("wh-grip");
    if (grip) {
      grip.addEventListener("click", function () {
        var panel = $("wh-panel");
        panel.classList.toggle("wh-collapsed");
        grip.setAttribute("aria-expanded", panel.classList.contains("wh-collapsed") ? "false" : "true");
      });
    }
    // Keep Leaflet's bottom controls (zoom, scale, attribution) above a bottom sheet: the
    // sheet's visible height is a CSS variable the stylesheet lifts them by.
    var sheet = $("wh-panel");
    function trackSheet() {
      if (!sheet) return;
      var m = map.getContainer().getBoundingClientRect();
      var p = sheet.getBoundingClientRect();
      var covers = p.width >= m.width * 0.8 && p.top < m.bottom;
      doc.style.setProperty("--wh-sheet", covers ? Math.max(0, Math.round(m.bottom - p.top)) + "px" : "0px");
    }
    if (sheet && window.ResizeObserver) new ResizeObserver(trackSheet).observe(sheet);
    window.addEventListener("resize", trackSheet);
    trackSheet();
    var copy = $("wh-embed-copy");
    var code = $("wh-embed-code");
    if (copy && code) {
      copy.addEventListener("click", function () {
        function done() {
          copy.textContent = msg("copied");
        }
        code.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(code.value).then(done, function () {
            document.execCommand("copy");
            done();
          });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    }
  };

  // ------------------------------------------------------------------------------ planner
  WH.planner = function (map, o) {
    var proj = projector(o.datum);
    WH.map = map;
    addScale(map);
    addBasemap(map, o.basemap, proj);
    var layers = {};
    var group = L.geoJSON(o.lines, {
      coordsToLatLng: function (c) {
        return proj.toMap(c[0], c[1]);
      },
      style: function (f) {
        var p = f.properties;
        if (p.role === "before") return { color: "#868e96", weight: 3, opacity: 0.8, dashArray: "2 6" };
        return {
          color: p.colour,
          weight: 5,
          opacity: 0.9,
          lineJoin: "round",
          dashArray: p.direction === "from_work" ? "10 7" : null,
        };
      },
      pointToLayer: function (f, ll) {
        var p = f.properties;
        if (p.role === "workplace") {
          return L.circleMarker(ll, { radius: 11, weight: 4, color: "#ffffff", fillColor: "#212529", fillOpacity: 1 });
        }
        if (p.role === "unserved") {
          return L.circleMarker(ll, { radius: 4, weight: 1, color: "#212529", fillColor: p.colour, fillOpacity: 0.9 });
        }
        return L.circleMarker(ll, {
          radius: 5 + Math.min(10, Math.sqrt(p.boarding || 0) * 1.6),
          weight: 2,
          color: "#ffffff",
          fillColor: p.colour,
          fillOpacity: 1,
        });
      },
      onEachFeature: function (f, layer) {
        // Server-built, escaped markup (webmap.planner.lines_collection).
        layer.bindPopup(f.properties.popup, { maxWidth: 320, autoPanPadding: [20, 20] });
        layer.bindTooltip(f.properties.tooltip, { sticky: f.geometry.type === "LineString" });
        if (f.properties.line_id) layers[f.properties.line_id] = layer;
      },
    }).addTo(map);
    group.eachLayer(function (layer) {
      var role = layer.feature && layer.feature.properties.role;
      if (role === "before" && layer.bringToBack) layer.bringToBack();
      if (layer.feature && layer.feature.geometry.type !== "LineString" && layer.bringToFront) layer.bringToFront();
    });
    if (o.pick) {
      // Clicking the map sets the workplace of the next planning job.
      var input = document.getElementById("wh-workplace");
      var pin = null;
      map.on("click", function (e) {
        if (!input) return;
        var p = proj.fromMap(e.latlng);
        input.value = p[0].toFixed(6) + "," + p[1].toFixed(6);
        input.dispatchEvent(new Event("change"));
        if (pin) pin.setLatLng(e.latlng);
        else pin = L.circleMarker(e.latlng, { radius: 9, weight: 3, color: "#212529", fillColor: "#ffffff", fillOpacity: 1 }).addTo(map);
      });
    }
    if (!applyView(map, urlView(), proj, 14) && o.bounds) map.fitBounds(o.bounds, { padding: [30, 30] });
    var rows = document.querySelectorAll("[data-wh-line]");
    for (var i = 0; i < rows.length; i++) {
      rows[i].addEventListener("click", function (e) {
        var layer = layers[e.currentTarget.getAttribute("data-wh-line")];
        if (layer) {
          // No animation: the popup's auto-pan must start from the final view.
          map.fitBounds(layer.getBounds(), { padding: [30, 30], animate: false });
          layer.openPopup();
        }
      });
    }
    document.documentElement.setAttribute("data-wh-lines", String(o.lines.features.filter(function (f) {
      return f.properties.role === "line";
    }).length));
    document.documentElement.setAttribute("data-wh-ready", "1");
  };
})();

/* lifeline dashboard: the map — an offline street base map, the networks, sensors, the active
 * incidents (marker in the grade's colour, isolation area, hazard zone, crews) and the search box.
 * Centre and extent come from GET /api/networks, the streets from GET /api/streets. */
(function () {
  "use strict";
  const LL = (window.LL = window.LL || {});
  const { esc } = LL;
  const t = (k, p) => LL.t(k, p);
  const UCOL = { water: "#38bdf8", power: "#facc15", gas: "#fb923c", drainage: "#a3a3a3" };
  const GCOL = { I: "#dc2626", II: "#f97316", III: "#eab308", IV: "#3b82f6" };
  const POINT_KINDS = { valve: 2.5, switch: 2, trafo: 5, pump: 6, tank: 7, reservoir: 8, regulator: 5, source: 7, ext_grid: 8, station: 6, manhole: 2.5 };
  const CREW_SVG = '<svg class="crew-icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M2 12.5h12v1.6H2z"/><path d="M3 12.5a5 5 0 0 1 10 0z"/><path d="M7.1 3.6h1.8v3.2H7.1z" opacity=".55"/></svg>';
  LL.GCOL = GCOL;
  LL.UCOL = UCOL;

  const M = (LL.mapview = { map: null, nets: {}, featureIndex: {}, sensorLayer: null, overlay: null, areaLayer: null, streets: null, meta: null, onIncident: null, onSensor: null, lastState: null });

  M.init = function () {
    if (M.map) return;
    const map = (M.map = L.map("map", { preferCanvas: true, zoomControl: false, attributionControl: false, zoomSnap: 0.25 }));
    map.createPane("streets").style.zIndex = 350;
    map.createPane("areas").style.zIndex = 390;
    L.control.zoom({ position: "topright" }).addTo(map);
    L.control.scale({ position: "bottomright", imperial: false }).addTo(map);
    M.areaLayer = L.layerGroup().addTo(map);
    M.sensorLayer = L.layerGroup().addTo(map);
    M.overlay = L.layerGroup().addTo(map);
    document.querySelectorAll("#layers input").forEach((cb) => cb.addEventListener("change", () => {
      const name = cb.dataset.layer;
      const layer = { sensors: M.sensorLayer, incidents: M.overlay, areas: M.areaLayer, streets: M.streets }[name] || M.nets[name];
      if (!layer) return;
      if (cb.checked) layer.addTo(map); else map.removeLayer(layer);
    }));
    map.on("zoomend", streetLabels);
  };

  /** Centre, extent, time zone and districts from GET /api/networks; then the layers. */
  M.load = async function (api) {
    const meta = (M.meta = await api("/api/networks"));
    LL.i18n.tz = meta.timezone || "UTC";
    (meta.districts || []).forEach((d) => { LL.i18n.districts[d.district_id] = d; });
    if (meta.tile_url) L.tileLayer(meta.tile_url, { maxZoom: 19, opacity: 0.35 }).addTo(M.map);
    const bb = meta.focus_bbox || meta.bbox;
    if (bb) M.map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]], { padding: [30, 30] });
    else if (meta.center) M.map.setView([meta.center[1], meta.center[0]], 15);
    else M.map.setView([0, 0], 2);
    await loadStreets(api);
    for (const u of Object.keys(meta.utilities)) {
      if (!UCOL[u]) UCOL[u] = "#a3a3a3";
      let gj;
      try { gj = await api("/api/networks/" + u + "?exclude_kinds=junction,bus,load,sink,sgen,source,storage"); } catch (e) { continue; }
      if (M.nets[u]) M.map.removeLayer(M.nets[u]);
      M.nets[u] = L.geoJSON(gj, {
        style: assetStyle,
        pointToLayer: (f, ll) => {
          const r = POINT_KINDS[f.properties.kind];
          if (!r) return L.circleMarker(ll, { radius: 1, stroke: false, fillOpacity: 0.0 });
          return L.circleMarker(ll, { radius: r, color: "#0b1628", weight: 1, fillColor: UCOL[u], fillOpacity: 0.95 });
        },
        onEachFeature: (f, layer) => {
          M.featureIndex[f.id] = layer;
          layer.bindTooltip(() => esc(LL.assetLabel(f.id)), { sticky: true });
        },
      });
      const cb = document.querySelector(`#layers input[data-layer="${u}"]`);
      if (!cb || cb.checked) M.nets[u].addTo(M.map);
    }
    M.map.invalidateSize();
    return meta;
  };

  function assetStyle(f) {
    const u = f.properties.utility, kind = f.properties.kind;
    const w = f.properties.diameter_m ? Math.max(1.2, Math.min(5, f.properties.diameter_m * 12)) : (u === "power" ? 1.6 : 2);
    const thin = f.properties.diameter_m != null && f.properties.diameter_m < 0.06;
    return { color: UCOL[u] || "#888", weight: thin ? 0.7 : w, opacity: thin || kind === "service" ? 0.35 : 0.85 };
  }

  async function loadStreets(api) {
    let gj;
    try { gj = await api("/api/streets"); } catch (e) { return; }
    if (M.streets) M.map.removeLayer(M.streets);
    const renderer = L.canvas({ pane: "streets" });
    M.streets = L.geoJSON(gj, {
      pane: "streets",
      renderer,
      style: () => ({ color: "#233248", weight: 7, opacity: 0.9, lineCap: "round", lineJoin: "round", interactive: false }),
      onEachFeature: (f, layer) => {
        if (f.properties.name) layer.bindTooltip(esc(f.properties.name), { permanent: false, direction: "center", className: "street-label" });
      },
    });
    const cb = document.querySelector('#layers input[data-layer="streets"]');
    if (!cb || cb.checked) M.streets.addTo(M.map);
    streetLabels();
  }
  /** Street names as permanent labels from zoom 16 on (only streets with a name have one). */
  function streetLabels() {
    if (!M.streets) return;
    const show = M.map.getZoom() >= 16;
    M.streets.eachLayer((l) => {
      if (!l.getTooltip()) return;
      if (show && l.feature.properties.length_m > 120) l.openTooltip(); else l.closeTooltip();
    });
  }

  function rampColor(f) {
    if (f == null) return "#64748b";
    const stops = [[0, [59, 130, 246]], [0.35, [34, 197, 94]], [0.7, [234, 179, 8]], [1, [239, 68, 68]]];
    for (let i = 1; i < stops.length; i++) {
      if (f <= stops[i][0]) {
        const [a, ca] = stops[i - 1], [b, cb] = stops[i], k = (f - a) / (b - a);
        return `rgb(${ca.map((c, j) => Math.round(c + (cb[j] - c) * k)).join(",")})`;
      }
    }
    return "rgb(239,68,68)";
  }
  const gcol = (g) => GCOL[g] || "#ef4444";

  /** Redraw the live state (GET /api/networks/state); returns {nAlarm, latest}. */
  M.drawState = function (st) {
    M.lastState = st;
    Object.values(M.nets).forEach((g) => g.resetStyle && g.eachLayer((l) => l.feature && l.feature.geometry.type !== "Point" && g.resetStyle(l)));
    M.sensorLayer.clearLayers();
    let nAlarm = 0, latest = null;
    for (const f of st.sensors.features) {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      if (p.in_alarm) nAlarm++;
      if (p.ts && (!latest || p.ts > latest)) latest = p.ts;
      const meter = p.quantity === "meter_kwh";
      const m = L.circleMarker([lat, lon], {
        radius: p.in_alarm ? 7 : meter ? 1.8 : 5, color: p.in_alarm ? "#fff" : "#0b1628", weight: p.in_alarm ? 2 : meter ? 0 : 1,
        fillColor: p.in_alarm ? "#ef4444" : meter ? "#64748b" : rampColor(p.range_frac), fillOpacity: meter ? 0.6 : 0.95,
      });
      m.bindTooltip(() => `${esc(p.sensor_id)} · ${esc(t("q." + p.quantity))}<br>${p.value == null ? "—" : p.value.toFixed(3)} ${esc(p.unit || "")}`);
      m.on("click", () => M.onSensor && M.onSensor(p.sensor_id));
      m.addTo(M.sensorLayer);
    }
    M.areaLayer.clearLayers();
    for (const a of st.areas || []) {
      const col = gcol(a.grade);
      const tip = () => `${esc(t("isolation_area"))} · ${esc(LL.kindLabel(a.kind))} · ${esc(LL.gradeLabel(a.grade))}`;
      if (a.outline) L.polygon(a.outline.map(([x, y]) => [y, x]), { pane: "areas", color: col, weight: 1.5, dashArray: "5 4", fillColor: col, fillOpacity: 0.16 }).bindTooltip(tip, { sticky: true }).addTo(M.areaLayer);
      for (const ln of a.lines) L.polyline(ln.map(([x, y]) => [y, x]), { pane: "areas", color: col, weight: 6, opacity: 0.75 }).addTo(M.areaLayer);
      for (const p of a.points) L.circleMarker([p[1], p[0]], { pane: "areas", radius: 4, color: col, weight: 2, fillColor: col, fillOpacity: 0.6 }).addTo(M.areaLayer);
    }
    M.overlay.clearLayers();
    for (const iso of st.isolated) {
      const l = M.featureIndex[iso.asset_id];
      const col = iso.operation === "deenergise" ? "#94a3b8" : gcol(iso.grade);
      const tip = () => `${esc(t("op." + (iso.operation || "operate")))} ${esc(LL.assetLabel(iso.asset_id))}`;
      if (l && l.setStyle && l.feature.geometry.type !== "Point") l.setStyle({ color: col, dashArray: "6 4", weight: 4, opacity: 1 });
      else if (iso.position) {
        L.circleMarker([iso.position[1], iso.position[0]], { radius: 6, color: col, weight: 3, fillColor: "#0b1628", fillOpacity: 1 }).bindTooltip(tip).addTo(M.overlay);
      }
    }
    for (const h of st.hazards) {
      const col = gcol(h.grade);
      L.circle([h.center[1], h.center[0]], { radius: h.radius_m, color: col, weight: 2.5, fillColor: col, fillOpacity: 0.2, dashArray: "4 4" })
        .bindTooltip(() => esc(t("hazard_tip", { r: Math.round(h.radius_m) }))).addTo(M.overlay);
    }
    const crewAt = {};
    for (const c of st.crews) {
      if (!c.position) continue;
      const k = c.position.join(",");
      (crewAt[k] = crewAt[k] || []).push(c);
    }
    for (const cs of Object.values(crewAt)) {
      const p = cs[0].position, moving = cs.some((c) => c.dispatched);
      const names = [...new Set(cs.map((c) => LL.crewLabel(c.crew_id)))];
      L.marker([p[1], p[0]], { icon: L.divIcon({ className: "", iconSize: null, html: `<div class="crew-marker${moving ? " moving" : ""}">${CREW_SVG}<span>${esc(names.join(" · "))}</span></div>` }) })
        .bindTooltip(() => cs.map((c) => esc(t("crew_eta", { crew: LL.crewLabel(c.crew_id), inc: c.incident_id, eta: c.eta_min == null ? "?" : Math.max(1, Math.ceil(c.eta_min)) }))).join("<br>")).addTo(M.overlay);
    }
    for (const i of st.incidents) {
      if (i.lat == null) continue;
      const g = i.grade || "?";
      const mk = L.marker([i.lat, i.lon], { icon: L.divIcon({ className: "", iconSize: [26, 26], iconAnchor: [13, 13], html: `<div class="inc-marker g${esc(g)}" style="background:${gcol(i.grade)}">${esc(g)}</div>` }) });
      mk.bindTooltip(`${esc(LL.kindLabel(i.kind))} · ${esc(LL.stateLabel(i.state))}`, { permanent: true, direction: "right", offset: [14, 0], className: "inc-label" });
      mk.on("click", () => M.onIncident && M.onIncident(i.incident_id));
      mk.addTo(M.overlay);
    }
    return { nAlarm, latest };
  };

  /** Zoom to a point and mark it for a few seconds. */
  M.flyTo = function (lat, lon, label) {
    M.map.setView([lat, lon], Math.max(M.map.getZoom(), 18));
    const ring = L.circleMarker([lat, lon], { radius: 14, color: "#2dd4bf", weight: 3, fill: false, className: "search-hit" }).addTo(M.map);
    if (label) ring.bindTooltip(esc(label), { permanent: true, direction: "top", offset: [0, -12] }).openTooltip();
    setTimeout(() => M.map.removeLayer(ring), 6000);
  };

  // ---------- search ----------
  M.wireSearch = function (api) {
    const box = document.getElementById("search"), out = document.getElementById("search-results");
    let timer = null, hits = [];
    const label = (h) => (h.type === "district" ? LL.districtName(h.id) : h.type === "asset" ? LL.assetLabel(h.id) : h.type === "customer" ? LL.custName({ name: h.label, category: h.kind }) : h.label);
    const kindOf = (h) => (h.type === "asset" ? LL.utilLabel(h.utility) : h.type === "sensor" ? t("q." + h.kind) : h.type === "customer" ? LL.catLabel(h.kind) : h.type === "district" ? t("district") : t("street"));
    const pick = (h) => { out.classList.add("hidden"); M.flyTo(h.lat, h.lon, label(h)); };
    async function run() {
      const q = box.value.trim();
      if (!q) { out.classList.add("hidden"); return; }
      try { hits = await api("/api/search?limit=12&q=" + encodeURIComponent(q)); } catch (e) { hits = []; }
      out.innerHTML = hits.length
        ? hits.map((h, i) => `<li data-i="${i}"><span class="hl">${esc(label(h))}</span><span class="hk">${esc(t("type." + h.type))} · ${esc(kindOf(h))}${h.type === "asset" || h.type === "customer" ? " · " + esc(h.id) : ""}</span></li>`).join("")
        : `<li class="none">${esc(t("search_none"))}</li>`;
      out.classList.remove("hidden");
      out.querySelectorAll("li[data-i]").forEach((li) => li.addEventListener("click", () => pick(hits[+li.dataset.i])));
    }
    box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 250); });
    box.addEventListener("keydown", async (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(timer); await run(); if (hits.length) pick(hits[0]); }
      if (ev.key === "Escape") out.classList.add("hidden");
    });
  };
})();

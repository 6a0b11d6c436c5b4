/* lifeline operations dashboard: map (Leaflet), incidents, KPIs and charts (ECharts), live SSE. */
(function () {
  "use strict";

  const S = {
    token: sessionStorage.getItem("lifeline.token") || "",
    user: JSON.parse(sessionStorage.getItem("lifeline.user") || "null"),
    lang: localStorage.getItem("lifeline.lang") || "zh-CN",
    dict: {},
    config: {},
    map: null,
    nets: {},          // utility -> L.GeoJSON
    featureIndex: {},  // asset_id -> leaflet layer
    sensorLayer: null,
    overlay: null,     // hazards, crews, incidents markers
    incidents: [],
    selected: null,
    es: null,
    alarms: 0,
    chart: null,
    kpiCharts: [],
    refreshTimer: null,
  };
  const ROLE_RANK = { viewer: 0, operator: 1, dispatcher: 2, admin: 3 };
  const STATES = ["detected", "confirmed", "dispatched", "on_site", "isolated", "repaired", "restored", "closed", "reviewed"];
  const UCOL = { water: "#38bdf8", power: "#facc15", gas: "#fb923c", drainage: "#a3a3a3" };
  const $ = (sel) => document.querySelector(sel);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const t = (k) => S.dict[k] || k;
  const txt = (o) => (o && typeof o === "object" ? o[S.lang] || o.en || o["zh-CN"] || "" : o || "");
  const fmtTime = (iso) => { if (!iso) return ""; const d = new Date(iso); return d.toISOString().slice(5, 16).replace("T", " "); };

  // ---------- API ----------
  async function api(path, opts = {}) {
    const headers = Object.assign({ "Content-Type": "application/json" }, opts.headers || {});
    if (S.token) headers.Authorization = "Bearer " + S.token;
    const r = await fetch(path, Object.assign({}, opts, { headers }));
    if (r.status === 401 && path !== "/api/auth/login") { logout(); throw new Error("401"); }
    const body = r.headers.get("content-type") && r.headers.get("content-type").includes("json") ? await r.json() : await r.text();
    if (!r.ok) throw new Error((body && body.detail) || r.statusText);
    return body;
  }

  // ---------- i18n ----------
  async function setLang(lang) {
    S.lang = lang;
    localStorage.setItem("lifeline.lang", lang);
    S.dict = await (await fetch("/static/i18n/" + lang + ".json")).json();
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("#lang-btn").textContent = lang === "zh-CN" ? "EN" : "中文";
    document.title = t("app_title");
    if (S.token) { renderIncidents(); if (S.selected) showDetail(S.selected.incident_id); loadKpis(); }
  }

  // ---------- auth ----------
  async function login(ev) {
    ev.preventDefault();
    $("#login-error").textContent = "";
    try {
      const r = await api("/api/auth/login", { method: "POST", body: JSON.stringify({ username: $("#login-user").value, password: $("#login-pass").value }) });
      S.token = r.access_token; S.user = r.user;
      sessionStorage.setItem("lifeline.token", S.token);
      sessionStorage.setItem("lifeline.user", JSON.stringify(S.user));
      await start();
    } catch (e) { $("#login-error").textContent = t("login_failed") + ": " + e.message; }
  }
  function logout() {
    S.token = ""; S.user = null;
    sessionStorage.removeItem("lifeline.token"); sessionStorage.removeItem("lifeline.user");
    if (S.es) S.es.close();
    $("#login").classList.remove("hidden");
  }
  const can = (role) => S.user && ROLE_RANK[S.user.role] >= ROLE_RANK[role];

  // ---------- map ----------
  function initMap() {
    if (S.map) return;
    S.map = L.map("map", { preferCanvas: true, zoomControl: false, attributionControl: !!S.config.tile_url, zoomSnap: 0.25 });
    if (S.config.tile_url) L.tileLayer(S.config.tile_url, { maxZoom: 19, opacity: 0.35 }).addTo(S.map);
    L.control.zoom({ position: "topright" }).addTo(S.map);
    L.control.scale({ position: "bottomright", imperial: false }).addTo(S.map);
    S.map.setView([48.45, 7.88], 14);
    S.sensorLayer = L.layerGroup().addTo(S.map);
    S.overlay = L.layerGroup().addTo(S.map);
    document.querySelectorAll("#layers input").forEach((cb) => cb.addEventListener("change", () => {
      const name = cb.dataset.layer;
      const layer = name === "sensors" ? S.sensorLayer : name === "incidents" ? S.overlay : S.nets[name];
      if (!layer) return;
      if (cb.checked) layer.addTo(S.map); else S.map.removeLayer(layer);
    }));
  }

  function assetStyle(f) {
    const u = f.properties.utility, kind = f.properties.kind;
    const w = f.properties.diameter_m ? Math.max(1.2, Math.min(5, f.properties.diameter_m * 12)) : (u === "power" ? 1.6 : 2);
    const thin = f.properties.diameter_m != null && f.properties.diameter_m < 0.06;
    return { color: UCOL[u] || "#888", weight: thin ? 0.7 : w, opacity: thin || kind === "service" ? 0.35 : 0.85 };
  }
  const POINT_KINDS = { valve: 2.5, switch: 2, trafo: 5, pump: 6, tank: 7, reservoir: 8, regulator: 5, source: 7, ext_grid: 8, station: 6, manhole: 2.5 };

  async function loadNetworks() {
    const meta = await api("/api/networks");
    const utils = Object.keys(meta.utilities);
    for (const u of utils) {
      if (!UCOL[u]) UCOL[u] = "#a3a3a3";
      let gj;
      try { gj = await api("/api/networks/" + u + "?exclude_kinds=junction,bus,load,sink,sgen,source,storage"); } catch (e) { continue; }
      if (S.nets[u]) S.map.removeLayer(S.nets[u]);
      S.nets[u] = L.geoJSON(gj, {
        style: assetStyle,
        pointToLayer: (f, ll) => {
          const r = POINT_KINDS[f.properties.kind];
          if (!r) return L.circleMarker(ll, { radius: 1, stroke: false, fillOpacity: 0.0 });
          return L.circleMarker(ll, { radius: r, color: "#0b1628", weight: 1, fillColor: UCOL[u], fillOpacity: 0.95 });
        },
        onEachFeature: (f, layer) => {
          S.featureIndex[f.id] = layer;
          layer.bindTooltip(`${esc(f.properties.name || f.id)} · ${esc(f.properties.kind)}`, { sticky: true });
        },
      });
      const cb = document.querySelector(`#layers input[data-layer="${u}"]`);
      if (!cb || cb.checked) S.nets[u].addTo(S.map);
    }
    S.map.invalidateSize();
    const bb = meta.focus_bbox || meta.bbox;
    if (bb) S.map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]], { padding: [30, 30] });
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

  async function refreshState() {
    const st = await api("/api/networks/state");
    // reset restyled assets
    Object.entries(S.nets).forEach(([, g]) => g.resetStyle && g.eachLayer((l) => l.feature && l.feature.geometry.type !== "Point" && g.resetStyle(l)));
    S.sensorLayer.clearLayers();
    let nAlarm = 0, latest = null;
    for (const f of st.sensors.features) {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      if (p.in_alarm) nAlarm++;
      if (p.ts && (!latest || p.ts > latest)) latest = p.ts;
      const meter = p.quantity === "meter_kwh";  // smart meters: many, small, not a level
      const m = L.circleMarker([lat, lon], {
        radius: p.in_alarm ? 7 : meter ? 1.8 : 5, color: p.in_alarm ? "#fff" : "#0b1628", weight: p.in_alarm ? 2 : meter ? 0 : 1,
        fillColor: p.in_alarm ? "#ef4444" : meter ? "#64748b" : rampColor(p.range_frac), fillOpacity: meter ? 0.6 : 0.95,
      });
      m.bindTooltip(`${esc(p.sensor_id)}<br>${p.value == null ? "—" : p.value.toFixed(3)} ${esc(p.unit || "")}`);
      m.on("click", () => showChart(p.sensor_id));
      m.addTo(S.sensorLayer);
    }
    $("#stat-sensors").textContent = nAlarm;
    $("#stat-time").textContent = latest ? fmtTime(latest) : "--";
    S.overlay.clearLayers();
    for (const iso of st.isolated) {
      const l = S.featureIndex[iso.asset_id];
      const col = iso.operation === "deenergise" ? "#94a3b8" : "#ef4444";
      if (l && l.setStyle && l.feature.geometry.type !== "Point") l.setStyle({ color: col, dashArray: "6 4", weight: 4, opacity: 1 });
      else if (iso.position) {
        L.circleMarker([iso.position[1], iso.position[0]], { radius: 5, color: col, weight: 2, fillColor: "#0b1628", fillOpacity: 1 })
          .bindTooltip(`${esc(iso.operation)} ${esc(iso.asset_id)}`).addTo(S.overlay);
      }
    }
    for (const h of st.hazards) {
      L.circle([h.center[1], h.center[0]], { radius: h.radius_m, color: "#ef4444", weight: 2, fillColor: "#ef4444", fillOpacity: 0.18, dashArray: "4 4" })
        .bindTooltip(`${t("hazard_zone")} ${Math.round(h.radius_m)} m`).addTo(S.overlay);
    }
    const crewAt = {};  // crews at the same place share one marker
    for (const c of st.crews) {
      if (!c.position) continue;
      const k = c.position.join(",");
      (crewAt[k] = crewAt[k] || []).push(c);
    }
    for (const cs of Object.values(crewAt)) {
      const p = cs[0].position, moving = cs.some((c) => c.dispatched);
      const names = [...new Set(cs.map((c) => c.crew_id || t("crew")))];
      L.marker([p[1], p[0]], { icon: L.divIcon({ className: "", iconSize: null, html: `<div class="crew-marker${moving ? " moving" : ""}">⛑ ${esc(names.join(" · "))}</div>` }) })
        .bindTooltip(cs.map((c) => `${t("crew")} ${esc(c.crew_id)} → ${esc(c.incident_id)} · ETA ${c.eta_min == null ? "?" : Math.round(c.eta_min)} ${t("minutes")}`).join("<br>")).addTo(S.overlay);
    }
    for (const i of st.incidents) {
      if (i.lat == null) continue;
      const g = i.grade || "?";
      const mk = L.marker([i.lat, i.lon], { icon: L.divIcon({ className: "", iconSize: [22, 22], html: `<div class="inc-marker" style="background:${UCOL[i.utility] ? "" : ""}">${esc(g)}</div>` }) });
      mk.bindTooltip(`${esc(i.incident_id)} · ${t("st_" + i.state)}`);
      mk.on("click", () => showDetail(i.incident_id));
      mk.addTo(S.overlay);
    }
  }

  // ---------- incidents ----------
  async function loadIncidents() {
    const active = $("#f-state").value === "active";
    const u = $("#f-utility").value;
    S.incidents = await api(`/api/incidents?active=${active}${u ? "&utility=" + u : ""}`);
    renderIncidents();
    $("#stat-open").textContent = S.incidents.filter((i) => !["closed", "reviewed"].includes(i.state)).length;
  }
  function renderIncidents(freshId) {
    const ul = $("#incident-list");
    ul.innerHTML = "";
    $("#incident-empty").classList.toggle("hidden", S.incidents.length > 0);
    for (const i of S.incidents) {
      const li = document.createElement("li");
      li.className = `incident-item u-${i.utility}` + (i.incident_id === freshId ? " fresh" : "");
      li.dataset.id = i.incident_id;
      li.innerHTML = `<span class="grade g${esc(i.grade)}">${esc(i.grade || "–")}</span>
        <div><div class="t">${esc(t(i.utility))} · ${esc(i.kind || i.incident_id)}</div>
        <div class="s">${esc(i.incident_id)} · ${fmtTime(i.opened_at)}${i.district_id ? " · " + esc(i.district_id) : ""}</div></div>
        <span class="state s-${i.state}">${esc(t("st_" + i.state))}</span>`;
      li.addEventListener("click", () => showDetail(i.incident_id));
      ul.appendChild(li);
    }
  }

  async function showDetail(id) {
    const d = await api("/api/incidents/" + encodeURIComponent(id));
    S.selected = d;
    document.querySelectorAll(".tab-body").forEach((e) => e.classList.add("hidden"));
    $("#detail").classList.remove("hidden");
    $("#detail").dataset.id = d.incident_id;
    $("#detail-grade").className = "grade g" + d.grade;
    $("#detail-grade").textContent = (d.grade || "–") + " " + t("grade");
    $("#detail-title").textContent = `${t(d.utility)} · ${d.kind || ""} · ${d.incident_id}`;
    $("#incident-state").className = "state s-" + d.state;
    $("#incident-state").textContent = t("st_" + d.state);
    $("#incident-state").dataset.state = d.state;
    const imp = d.impact || {};
    $("#detail-meta").textContent = `${fmtTime(d.opened_at)} · ${d.district_id || ""} · ${t("customers_out")} ${(imp.customers_out || []).length} · ${t("critical_sites_out")} ${imp.critical_sites_out || 0}`;
    renderActions(d);
    $("#timeline").innerHTML = STATES.map((s) => {
      const ts = d.timeline[s], cur = s === d.state;
      return `<li class="${cur ? "cur" : ts ? "done" : ""}">${esc(t("st_" + s))}${ts ? `<small>${fmtTime(ts)}</small>` : ""}</li>`;
    }).join("");
    const plans = (d.plan && d.plan.plans) || [];
    const byPlan = {};
    (d.actions || []).forEach((a) => (byPlan[a.plan_id] = byPlan[a.plan_id] || []).push(a));
    $("#plan").innerHTML = (plans.length ? plans.map((p) => `<div class="plan-title">${esc(txt(p.title))}</div><div class="plan-basis">${esc(txt(p.basis))}</div>` +
      (byPlan[p.plan_id] || []).map((a) => `<div class="act"><span class="k">${esc(S.dict["k_" + a.kind] || a.kind)}</span><span>${esc(txt(a.text))}</span></div>`).join("")).join("") : `<div class="empty">${t("none")}</div>`) +
      (d.approval && d.approval.by ? `<div class="approval ok">✔ ${t("approved_by")}${esc(d.approval.by)} · ${fmtTime(d.approval.at)}</div>` : `<div class="approval">${t("not_approved")}</div>`);
    $("#safety").innerHTML = (d.safety || []).map((r) => `<li><b class="${r.passed ? "ok" : "bad"}">${r.passed ? "✔" : "✘"} ${esc(r.rule)}</b> — ${esc(r.detail)}</li>`).join("") || `<li>${t("none")}</li>`;
    $("#cascade").innerHTML = (d.cascade || []).map((c) => `<li>${esc(c.from_utility || d.utility)} → ${esc(c.to_utility || "")}: <b>${esc(c.kind)}</b> ${esc(c.to_asset || "")}${c.customers ? ` · ${c.customers.length} ${t("customers_out")}` : ""}</li>`).join("") || `<li>${t("none")}</li>`;
    $("#evidence").innerHTML = (d.evidence || []).map((e) => `<li>${fmtTime(e.ts)} · <b>${esc(t(e.kind))}</b> ${esc(e.source)} ${esc(e.evidence_id)}${e.detail && e.detail.text ? " — " + esc(e.detail.text) : ""}</li>`).join("") || `<li>${t("none")}</li>`;
    $("#audit").innerHTML = (d.audit || []).slice().reverse().map((a) => `<li>${fmtTime(a.ts)} · ${esc(a.actor)} · ${esc(a.action)} ${a.detail && a.detail.to ? "→ " + esc(t("st_" + a.detail.to)) : ""}</li>`).join("");
    if (d.lat != null && S.map) S.map.setView([d.lat, d.lon], Math.max(S.map.getZoom(), 16.5));
  }

  function renderActions(d) {
    const nxt = d.next_states || [];
    const needPlan = (d.actions || []).length > 0 && !d.approval.by;
    const show = {
      confirm: can("operator") && nxt.includes("confirmed"),
      approve: can("dispatcher") && (d.actions || []).length > 0 && !d.approval.by && !["closed", "reviewed"].includes(d.state),
      dispatch: can("dispatcher") && nxt.includes("dispatched") && !needPlan,
      advance: can("operator") && nxt.some((s) => !["closed", "confirmed", "dispatched"].includes(s)),
      close: can("dispatcher") && nxt.includes("closed"),
    };
    document.querySelectorAll("#actions button").forEach((b) => {
      b.classList.toggle("hidden", !show[b.dataset.action]);
      b.disabled = false;
    });
    const adv = nxt.find((s) => !["closed", "confirmed", "dispatched"].includes(s));
    if (adv) $("#btn-advance").textContent = `${t("advance")} → ${t("st_" + adv)}`;
    $("#action-error").textContent = "";
  }

  async function doAction(action) {
    if (!S.selected) return;
    const btns = document.querySelectorAll("#actions button");
    btns.forEach((b) => (b.disabled = true));
    try {
      await api(`/api/incidents/${encodeURIComponent(S.selected.incident_id)}/${action}`, { method: "POST", body: JSON.stringify({ note: "" }) });
      await showDetail(S.selected.incident_id);
      loadIncidents(); scheduleRefresh();
    } catch (e) {
      $("#action-error").textContent = t("error") + ": " + e.message;
      btns.forEach((b) => (b.disabled = false));
    }
  }

  // ---------- charts ----------
  async function showChart(sensorId) {
    const r = await api(`/api/sensors/${encodeURIComponent(sensorId)}/readings?hours=24`);
    $("#chart-card").classList.remove("hidden");
    $("#chart-title").textContent = `${sensorId} (${r.sensor.quantity || ""}, ${r.sensor.unit || ""})`;
    if (!S.chart) S.chart = echarts.init($("#chart"), "dark", { renderer: "canvas" });
    const lines = r.thresholds.map((th) => ({ yAxis: th.value, name: th.name, lineStyle: { color: th.kind === "alarm" ? "#ef4444" : "#64748b", type: "dashed" }, label: { formatter: th.name, color: "#94a3b8" } }));
    const alarmTh = r.thresholds.filter((x) => x.kind === "alarm").map((x) => x.value);
    const vals = r.readings.map((p) => p.value).concat(alarmTh);
    S.chart.setOption({
      backgroundColor: "transparent", animation: false,
      grid: { left: 48, right: 64, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "time", axisLine: { lineStyle: { color: "#334155" } } },
      yAxis: { type: "value", scale: true, min: vals.length ? Math.min(...vals) : null, max: vals.length ? Math.max(...vals) : null, splitLine: { lineStyle: { color: "#1f3452" } } },
      series: [{ type: "line", name: sensorId, showSymbol: false, data: r.readings.map((p) => [p.ts, p.value]), lineStyle: { color: "#38bdf8", width: 1.5 },
        markLine: { symbol: "none", data: lines, silent: true } }],
    }, true);
  }

  async function loadKpis() {
    if (!S.token) return;
    const k = await api("/api/kpis");
    const mm = k.mean_minutes || {};
    const tile = (key, v) => `<div class="tile"><div class="k">${t(key)}</div><div class="v">${v == null ? "—" : v}</div></div>`;
    $("#kpi-tiles").innerHTML = tile("kpi_incidents", k.incidents) + tile("kpi_open", k.open) + tile("kpi_cml", Math.round(k.customer_minutes_lost)) +
      tile("time_to_confirm", mm.time_to_confirm == null ? null : mm.time_to_confirm.toFixed(1) + " " + t("minutes"));
    if (!S.kpiCharts.length) S.kpiCharts = ["#kpi-chart", "#kpi-grade", "#kpi-state"].map((s) => echarts.init($(s), "dark"));
    const names = Object.keys(mm);
    S.kpiCharts[0].setOption({
      backgroundColor: "transparent", title: { text: t("mean_minutes"), textStyle: { fontSize: 12, color: "#7f93ad" } }, grid: { left: 90, right: 20, top: 30, bottom: 20 },
      xAxis: { type: "value", splitLine: { lineStyle: { color: "#1f3452" } } }, yAxis: { type: "category", data: names.map((n) => t(n)) },
      series: [{ type: "bar", data: names.map((n) => mm[n]), itemStyle: { color: "#2dd4bf" } }],
    }, true);
    const states = STATES.filter((s) => k.by_state[s]);
    S.kpiCharts[2].setOption({
      backgroundColor: "transparent", title: { text: t("state"), textStyle: { fontSize: 12, color: "#7f93ad" } }, grid: { left: 40, right: 20, top: 30, bottom: 40 },
      xAxis: { type: "category", data: states.map((s) => t("st_" + s)), axisLabel: { rotate: 30 } }, yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#1f3452" } } },
      series: [{ type: "bar", data: states.map((s) => k.by_state[s]), itemStyle: { color: "#38bdf8" } }],
    }, true);
    const grades = ["I", "II", "III", "IV"];
    S.kpiCharts[1].setOption({
      backgroundColor: "transparent", title: { text: t("by_grade"), textStyle: { fontSize: 12, color: "#7f93ad" } },
      series: [{ type: "pie", radius: ["40%", "68%"], data: grades.map((g, i) => ({ name: g, value: k.by_grade[g] || 0, itemStyle: { color: ["#dc2626", "#f97316", "#eab308", "#3b82f6"][i] } })), label: { color: "#d7e3f4" } }],
    }, true);
  }

  // ---------- live ----------
  function toast(msg) {
    const d = document.createElement("div");
    d.className = "toast"; d.textContent = msg;
    $("#toast").appendChild(d);
    setTimeout(() => d.remove(), 5000);
  }
  function scheduleRefresh() {
    clearTimeout(S.refreshTimer);
    S.refreshTimer = setTimeout(() => { refreshState().catch(() => {}); }, 400);
  }
  function addAlarm(a) {
    S.alarms++;
    $("#stat-alarms").textContent = S.alarms;
    const li = document.createElement("li");
    li.className = "fresh";
    li.innerHTML = `<span class="sev sev${a.severity || 1}">${a.severity || 1}</span><span class="mono">${fmtTime(a.ts)}</span><span>${esc(t(a.utility))} · ${esc(a.detector || "")} · ${esc((a.sensors || []).join(", "))}</span>`;
    if (a.sensors && a.sensors.length) li.addEventListener("click", () => showChart(a.sensors[0]));
    const ul = $("#alarm-list");
    ul.insertBefore(li, ul.firstChild);
    while (ul.children.length > 40) ul.removeChild(ul.lastChild);
  }
  function connect() {
    if (S.es) S.es.close();
    S.es = new EventSource("/api/events?token=" + encodeURIComponent(S.token));
    S.es.onopen = () => { $("#live").className = "live on"; };
    S.es.onerror = () => { $("#live").className = "live off"; };
    S.es.addEventListener("alarm", (m) => { addAlarm(JSON.parse(m.data).data); scheduleRefresh(); });
    S.es.addEventListener("incident", async (m) => {
      const d = JSON.parse(m.data).data;
      if (d.action === "open_incident") toast(`${t("new_incident")}: ${t(d.utility)} · ${d.kind || ""} (${d.grade || "?"})`);
      await loadIncidents();
      renderIncidents(d.action === "open_incident" ? d.incident_id : null);
      if (S.selected && S.selected.incident_id === d.incident_id && !$("#detail").classList.contains("hidden")) showDetail(d.incident_id);
      scheduleRefresh(); loadKpis();
    });
    S.es.addEventListener("readings", () => scheduleRefresh());
    S.es.addEventListener("replay", (m) => {
      const d = JSON.parse(m.data).data;
      if (d.sim_time) $("#stat-time").textContent = fmtTime(d.sim_time) + (d.running ? ` ▶${Math.round(d.speed || 0)}×` : "");
      scheduleRefresh();
    });
  }

  async function start() {
    $("#login").classList.add("hidden");
    $("#who").textContent = `${S.user.username} · ${S.user.role}${S.user.district_id ? " · " + S.user.district_id : ""}`;
    S.config = await (await fetch("/api/config")).json();
    initMap();
    setTimeout(() => S.map.invalidateSize(), 50);
    try {
      const al = await api("/api/alarms?limit=40");
      S.alarms = al.length;
      $("#alarm-list").innerHTML = "";
      al.slice().reverse().forEach(addAlarm);
      S.alarms = al.length; $("#stat-alarms").textContent = S.alarms;
    } catch (e) { if (e.message !== "401") toast(t("error") + ": " + e.message); }
    const steps = [loadNetworks().then(refreshState), loadIncidents(), loadKpis()];
    for (const r of await Promise.allSettled(steps)) {
      if (r.status === "rejected" && r.reason.message !== "401") toast(t("error") + ": " + r.reason.message);
    }
    connect();
    document.body.dataset.ready = "1";
  }

  // ---------- wiring ----------
  function wire() {
    $("#login-form").addEventListener("submit", login);
    $("#logout-btn").addEventListener("click", logout);
    $("#lang-btn").addEventListener("click", () => setLang(S.lang === "zh-CN" ? "en" : "zh-CN"));
    document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => setLang(b.dataset.lang)));
    document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
      document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
      $("#detail").classList.add("hidden");
      document.querySelectorAll(".tab-body").forEach((e) => e.classList.toggle("hidden", e.id !== "tab-" + b.dataset.tab));
      if (b.dataset.tab === "kpis") { loadKpis(); setTimeout(() => S.kpiCharts.forEach((c) => c.resize()), 30); }
    }));
    $("#detail-back").addEventListener("click", () => {
      $("#detail").classList.add("hidden"); S.selected = null;
      const active = document.querySelector(".tab.active").dataset.tab;
      $("#tab-" + active).classList.remove("hidden");
    });
    document.querySelectorAll("#actions button").forEach((b) => b.addEventListener("click", () => doAction(b.dataset.action)));
    $("#f-state").addEventListener("change", loadIncidents);
    $("#f-utility").addEventListener("change", loadIncidents);
    $("#chart-close").addEventListener("click", () => $("#chart-card").classList.add("hidden"));
    window.addEventListener("resize", () => { if (S.chart) S.chart.resize(); S.kpiCharts.forEach((c) => c.resize()); });
  }

  window.__lifeline = S; // for debugging and the browser tests
  wire();
  setLang(S.lang).then(() => { if (S.token && S.user) start(); });
})();

/* lifeline operations dashboard: login, incidents, KPIs and charts (ECharts), live SSE.
 * The map is in js/mapview.js, the incident detail's texts in js/present.js, the catalogues and
 * local times in js/i18n.js. */
(function () {
  "use strict";
  const LL = window.LL;
  const M = LL.mapview;
  const I = LL.i18n;
  const { esc } = LL;
  const t = (k, p) => LL.t(k, p);

  const S = {
    token: sessionStorage.getItem("lifeline.token") || "",
    user: JSON.parse(sessionStorage.getItem("lifeline.user") || "null"),
    incidents: [],
    selected: null,
    es: null,
    alarms: 0,
    alarmRows: [],     // newest first, re-rendered on a language switch
    chart: null,
    chartSensor: null,
    kpiCharts: [],
    refreshTimer: null,
    replay: null,
    replayPoll: null,
    shownTime: null,   // the time in the top bar (data or replay time), for the zone's offset
    evidenceAll: false,
    started: false,
  };
  const ROLE_RANK = { viewer: 0, operator: 1, dispatcher: 2, admin: 3 };
  const STATES = ["detected", "confirmed", "dispatched", "on_site", "isolated", "repaired", "restored", "closed", "reviewed"];
  const $ = (sel) => document.querySelector(sel);

  // ---------- API ----------
  async function api(path, opts = {}) {
    const headers = Object.assign({ "Content-Type": "application/json" }, opts.headers || {});
    if (S.token) headers.Authorization = "Bearer " + S.token;
    const r = await fetch(path, Object.assign({}, opts, { headers }));
    if (r.status === 401 && path !== "/api/auth/login") { logout(); throw new Error("401"); }
    const body = r.headers.get("content-type") && r.headers.get("content-type").includes("json") ? await r.json() : await r.text();
    if (!r.ok) {
      const e = new Error((body && body.detail) || r.statusText);
      e.status = r.status;
      throw e;
    }
    return body;
  }
  /** A failed request in the user's language (the server's own words in brackets). */
  const errText = (e) => (e.status ? t("err." + e.status) : t("error")) + (e.message ? t("paren", { x: e.message }) : "");

  // ---------- language ----------
  async function setLang(lang) {
    await LL.loadCatalogue(lang);
    $("#lang-btn").textContent = lang === "zh-CN" ? "EN" : "中文";
    document.title = t("app_title");
    if (!S.started) return;
    renderTopbar();
    renderIncidents();
    renderTicker();
    renderReplay();
    if (S.selected && !$("#detail").classList.contains("hidden")) showDetail(S.selected.incident_id);
    loadKpis();
    if (M.lastState) M.drawState(M.lastState);
    if (S.chartSensor && !$("#chart-card").classList.contains("hidden")) showChart(S.chartSensor);
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
    } catch (e) { $("#login-error").textContent = t("login_failed") + (e.status === 401 || e.status === 429 ? t("paren", { x: t("err." + e.status) }) : t("paren", { x: e.message })); }
  }
  function logout() {
    S.token = ""; S.user = null;
    sessionStorage.removeItem("lifeline.token"); sessionStorage.removeItem("lifeline.user");
    if (S.es) S.es.close();
    $("#login").classList.remove("hidden");
  }
  const can = (role) => S.user && ROLE_RANK[S.user.role] >= ROLE_RANK[role];

  function renderTopbar() {
    if (!S.user) return;
    const d = S.user.district_id ? " · " + LL.districtName(S.user.district_id) : "";
    $("#who").textContent = `${S.user.username} · ${t("role." + S.user.role)}${d}`;
    const city = M.meta && M.meta.city;
    $("#city-name").textContent = city ? (I.lang === "zh-CN" ? city.name_zh || city.name : city.name || city.name_zh) || "" : "";
    renderZone();
  }
  /** The zone's offset at the time shown (the data's, not the wall clock's: summer or winter time). */
  function renderZone() {
    $("#stat-tz").textContent = `${LL.zoneOffset(S.shownTime)} · ${I.tz}`;
  }
  function showTime(iso, suffix) {
    S.shownTime = iso || S.shownTime;
    $("#stat-time").textContent = iso ? LL.fmtTime(iso) + (suffix || "") : "--";
    renderZone();
  }

  // ---------- live state ----------
  async function refreshState() {
    const st = await api("/api/networks/state");
    const { nAlarm, latest } = M.drawState(st);
    $("#stat-sensors").textContent = nAlarm;
    const r = S.replay;
    if (r && r.running && r.phase === "preparing") $("#stat-time").textContent = t("preparing_short");
    else if (!r || !r.sim_time) showTime(latest);
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
      li.innerHTML = `<span class="grade g${esc(i.grade)}" title="${esc(LL.gradeName(i.grade))}">${esc(i.grade || "–")}</span>
        <div><div class="t">${esc(LL.utilLabel(i.utility))} · ${esc(LL.kindLabel(i.kind))}</div>
        <div class="s">${esc(LL.fmtTime(i.opened_at))}${i.district_id ? " · " + esc(LL.districtName(i.district_id)) : ""} · <span class="mono">${esc(i.incident_id)}</span></div></div>
        <span class="state s-${i.state}">${esc(LL.stateLabel(i.state))}</span>`;
      li.addEventListener("click", () => showDetail(i.incident_id));
      ul.appendChild(li);
    }
  }

  async function showDetail(id) {
    const d = await api("/api/incidents/" + encodeURIComponent(id));
    if (!S.selected || S.selected.incident_id !== id) S.evidenceAll = false;
    S.selected = d;
    document.querySelectorAll(".tab-body").forEach((e) => e.classList.add("hidden"));
    $("#detail").classList.remove("hidden");
    $("#detail").dataset.id = d.incident_id;
    $("#detail-grade").className = "grade g" + d.grade;
    $("#detail-grade").textContent = d.grade ? `${LL.gradeLabel(d.grade)} · ${LL.gradeName(d.grade)}` : "–";
    $("#detail-title").textContent = `${LL.utilLabel(d.utility)} · ${LL.kindLabel(d.kind)}`;
    $("#incident-state").className = "state s-" + d.state;
    $("#incident-state").textContent = LL.stateLabel(d.state);
    $("#incident-state").dataset.state = d.state;
    const imp = d.impact || {};
    $("#detail-meta").textContent = [d.incident_id, LL.fmtTimeZ(d.opened_at), LL.districtName(d.district_id),
      `${t("customers_out")} ${(imp.customers_out || []).length}`, `${t("critical_sites_out")} ${imp.critical_sites_out || 0}`].filter(Boolean).join(" · ");
    renderActions(d);
    $("#timeline").innerHTML = STATES.map((s) => {
      const ts = d.timeline[s], cur = s === d.state;
      return `<li class="${cur ? "cur" : ts ? "done" : ""}">${esc(LL.stateLabel(s))}${ts ? `<small>${esc(LL.fmtTime(ts))}</small>` : ""}</li>`;
    }).join("");
    $("#grading").innerHTML = LL.renderGrading(d);
    $("#plan").innerHTML = LL.renderPlan(d);
    $("#safety").innerHTML = LL.renderSafety(d);
    $("#cascade").innerHTML = LL.renderCascade(d);
    renderEvidence();
    $("#audit").innerHTML = LL.renderAudit(d);
    if (d.lat != null && M.map) M.map.setView([d.lat, d.lon], Math.max(M.map.getZoom(), 16.5));
  }
  function renderEvidence() {
    $("#evidence").innerHTML = LL.renderEvidence(S.selected, S.evidenceAll);
    const more = $("#evidence-more");
    if (more) more.addEventListener("click", () => { S.evidenceAll = true; renderEvidence(); });
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
    $("#btn-advance").textContent = adv ? `${t("advance")} → ${LL.stateLabel(adv)}` : t("advance");
    $("#action-error").textContent = "";
  }

  async function doAction(action) {
    if (!S.selected) return;
    const btns = document.querySelectorAll("#actions button");
    btns.forEach((b) => (b.disabled = true));
    try {
      await api(`/api/incidents/${encodeURIComponent(S.selected.incident_id)}/${action}`, { method: "POST", body: JSON.stringify({ note: "" }) });
      await showDetail(S.selected.incident_id);
      loadIncidents(); scheduleRefresh(); loadKpis();
    } catch (e) {
      $("#action-error").textContent = errText(e);
      btns.forEach((b) => (b.disabled = false));
    }
  }

  // ---------- charts ----------
  async function showChart(sensorId) {
    const r = await api(`/api/sensors/${encodeURIComponent(sensorId)}/readings?hours=24`);
    S.chartSensor = sensorId;
    $("#chart-card").classList.remove("hidden");
    $("#chart-title").textContent = `${sensorId} · ${t("q." + (r.sensor.quantity || "unknown"))}${r.sensor.unit ? t("paren", { x: r.sensor.unit }) : ""}`;
    if (!S.chart) S.chart = echarts.init($("#chart"), "dark", { renderer: "canvas" });
    const vals = r.readings.map((p) => p.value);
    const lo0 = vals.length ? Math.min(...vals) : 0, hi0 = vals.length ? Math.max(...vals) : 1;
    const alarm = r.thresholds.filter((x) => x.kind === "alarm");
    const ymin = Math.min(lo0, ...alarm.map((x) => x.value)), ymax = Math.max(hi0, ...alarm.map((x) => x.value));
    const pad = (ymax - ymin) * 0.08 || 1;
    // valid-range lines only when they fall in view; their labels on the left, alarm labels on
    // the right, each on the outer side of its line, so that no two labels overlap
    const shown = r.thresholds.filter((th) => th.kind === "alarm" || (th.value >= ymin - pad && th.value <= ymax + pad));
    const pos = { valid_min: "insideStartTop", valid_max: "insideStartBottom", low: "insideEndBottom", high: "insideEndTop" };
    const lines = shown.map((th) => ({
      yAxis: th.value, name: th.name,
      lineStyle: { color: th.kind === "alarm" ? "#ef4444" : "#64748b", type: "dashed" },
      label: { formatter: `${t("th." + th.name)} ${+th.value.toFixed(2)}`, color: th.kind === "alarm" ? "#fca5a5" : "#94a3b8", position: pos[th.name] || (th.kind === "alarm" ? "insideEndTop" : "insideStartTop"), fontSize: 11 },
    }));
    S.chart.setOption({
      backgroundColor: "transparent", animation: false,
      grid: { left: 48, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "—" : (+v).toFixed(3)) },
      xAxis: { type: "time", axisLine: { lineStyle: { color: "#334155" } }, axisLabel: { formatter: (v) => LL.fmtTime(new Date(v).toISOString()).slice(6) } },
      yAxis: { type: "value", scale: true, min: +(ymin - pad).toFixed(3), max: +(ymax + pad).toFixed(3), splitLine: { lineStyle: { color: "#1f3452" } } },
      series: [{ type: "line", name: sensorId, showSymbol: false, data: r.readings.map((p) => [p.ts, p.value]), lineStyle: { color: "#38bdf8", width: 1.5 },
        markLine: { symbol: "none", data: lines, silent: true } }],
    }, true);
  }

  async function loadKpis() {
    if (!S.token) return;
    const k = await api("/api/kpis");
    const mm = k.mean_minutes || {}, n = k.measured || {};
    const tile = (key, v) => `<div class="tile"><div class="k">${esc(t(key))}</div><div class="v">${v == null ? "—" : esc(v)}</div></div>`;
    $("#kpi-tiles").innerHTML = tile("kpi_incidents", k.incidents) + tile("kpi_open", k.open) + tile("kpi_cml", Math.round(k.customer_minutes_lost)) +
      tile("time_to_confirm", mm.time_to_confirm == null ? null : mm.time_to_confirm.toFixed(1) + " " + t("minutes"));
    if (!S.kpiCharts.length) S.kpiCharts = ["#kpi-chart", "#kpi-grade", "#kpi-state"].map((s) => echarts.init($(s), "dark"));
    const names = Object.keys(mm);
    const any = names.some((x) => mm[x] != null);
    const title = (text) => ({ text, left: 8, top: 4, textStyle: { fontSize: 12, color: "#7f93ad", fontWeight: "normal" } });
    // a time not measured yet (no incident reached that step) is a labelled empty row, not a gap
    S.kpiCharts[0].setOption({
      backgroundColor: "transparent", title: title(t("mean_minutes")), grid: { left: 96, right: 90, top: 34, bottom: 24 },
      xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#1f3452" } }, max: any ? null : 10, axisLabel: { show: any } },
      yAxis: { type: "category", inverse: true, data: names.map((x) => t(x)) },
      series: [{ type: "bar", barMaxWidth: 16, itemStyle: { color: "#2dd4bf" },
        data: names.map((x) => ({ value: mm[x] == null ? 0 : mm[x], label: { show: true, position: "right", color: mm[x] == null ? "#7f93ad" : "#d7e3f4",
          formatter: mm[x] == null ? t("kpi_not_measured") : `${mm[x].toFixed(1)} · ${t("n_incidents", { n: n[x] || 0 })}` } })) }],
      graphic: any ? [] : [{ type: "text", left: 96, bottom: 4, style: { text: t("kpi_no_data"), fill: "#7f93ad", fontSize: 11 } }],
    }, true);
    const states = STATES.filter((s) => k.by_state[s]);
    S.kpiCharts[2].setOption({
      backgroundColor: "transparent", title: title(t("state")), grid: { left: 40, right: 20, top: 34, bottom: 48 },
      xAxis: { type: "category", data: states.map((s) => LL.stateLabel(s)), axisLabel: { rotate: 30 } }, yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#1f3452" } } },
      series: [{ type: "bar", barMaxWidth: 36, data: states.map((s) => k.by_state[s]), itemStyle: { color: "#38bdf8" } }],
    }, true);
    const grades = ["I", "II", "III", "IV"].filter((g) => k.by_grade[g]);
    S.kpiCharts[1].setOption({
      backgroundColor: "transparent", title: title(t("by_grade")),
      series: [{ type: "pie", center: ["50%", "58%"], radius: ["32%", "56%"], avoidLabelOverlap: true,
        data: grades.map((g) => ({ name: `${LL.gradeLabel(g)} ${LL.gradeName(g)}`, value: k.by_grade[g], itemStyle: { color: LL.GCOL[g] } })),
        label: { color: "#d7e3f4", formatter: "{b}: {c}" } }],
    }, true);
  }

  // ---------- replay / preparing ----------
  function renderReplay() {
    const r = S.replay, banner = $("#preparing");
    const preparing = !!(r && r.running && r.phase === "preparing");
    banner.classList.toggle("hidden", !preparing);
    document.body.dataset.phase = (r && r.phase) || "idle";
    if (preparing) banner.querySelector(".msg").textContent = t("preparing") + (r.steps_total ? " " + t("preparing_steps", { n: r.steps_total }) : "");
    if (r && r.sim_time) showTime(r.sim_time, r.running && r.phase === "replaying" ? ` ▶${Math.round(r.speed || 0)}×` : "");
    else if (preparing) $("#stat-time").textContent = t("preparing_short");
  }
  async function pollReplay() {
    clearTimeout(S.replayPoll);
    try { S.replay = await api("/api/scenarios/replay"); } catch (e) { return; }
    renderReplay();
    if (S.replay.running && S.replay.phase === "preparing") S.replayPoll = setTimeout(pollReplay, 3000);
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
  function alarmRow(a, fresh) {
    const li = document.createElement("li");
    if (fresh) li.className = "fresh";
    const loc = Array.isArray(a.location) ? a.location : (a.location && a.location.candidates) || [];
    const place = loc.length && loc[0].asset_id ? LL.assetLabel(loc[0].asset_id) : (a.sensors || []).join(", ");
    li.innerHTML = `<span class="sev sev${a.severity || 1}">${a.severity || 1}</span><span class="mono">${esc(LL.fmtTime(a.ts))}</span><span>${esc(LL.utilLabel(a.utility))} · ${esc(LL.detLabel(a.detector))} · ${esc(place)}</span>`;
    if (a.sensors && a.sensors.length) li.addEventListener("click", () => showChart(a.sensors[0]));
    return li;
  }
  function renderTicker() {
    const ul = $("#alarm-list");
    ul.innerHTML = "";
    S.alarmRows.forEach((a) => ul.appendChild(alarmRow(a, false)));
  }
  function addAlarm(a) {
    S.alarms++;
    $("#stat-alarms").textContent = S.alarms;
    S.alarmRows.unshift(a);
    S.alarmRows.length = Math.min(S.alarmRows.length, 40);
    const ul = $("#alarm-list");
    ul.insertBefore(alarmRow(a, true), ul.firstChild);
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
      if (d.action === "open_incident") toast(`${t("new_incident")}${t("colon")}${LL.utilLabel(d.utility)} · ${LL.kindLabel(d.kind)}${t("paren", { x: LL.gradeLabel(d.grade) })}`);
      await loadIncidents();
      renderIncidents(d.action === "open_incident" ? d.incident_id : null);
      if (S.selected && S.selected.incident_id === d.incident_id && !$("#detail").classList.contains("hidden")) showDetail(d.incident_id);
      scheduleRefresh(); loadKpis();
    });
    S.es.addEventListener("readings", () => scheduleRefresh());
    S.es.addEventListener("replay", (m) => {
      S.replay = Object.assign({}, S.replay || {}, JSON.parse(m.data).data);
      renderReplay();
      scheduleRefresh();
    });
  }

  async function start() {
    $("#login").classList.add("hidden");
    S.started = true;
    M.init();
    M.onIncident = showDetail;
    M.onSensor = showChart;
    setTimeout(() => M.map.invalidateSize(), 50);
    try { await M.load(api); } catch (e) { if (e.message !== "401") toast(errText(e)); }
    renderTopbar();
    try {
      const al = await api("/api/alarms?limit=40");
      S.alarmRows = al.slice();
      renderTicker();
      S.alarms = al.length; $("#stat-alarms").textContent = S.alarms;
    } catch (e) { if (e.message !== "401") toast(errText(e)); }
    const steps = [refreshState(), loadIncidents(), loadKpis(), pollReplay()];
    for (const r of await Promise.allSettled(steps)) {
      if (r.status === "rejected" && r.reason.message !== "401") toast(errText(r.reason));
    }
    connect();
    document.body.dataset.ready = "1";
  }

  // ---------- wiring ----------
  function wire() {
    $("#login-form").addEventListener("submit", login);
    $("#logout-btn").addEventListener("click", logout);
    $("#lang-btn").addEventListener("click", () => setLang(I.lang === "zh-CN" ? "en" : "zh-CN"));
    $("#bigscreen-btn").addEventListener("click", () => {
      document.body.classList.toggle("bigscreen");
      setTimeout(() => { M.map.invalidateSize(); S.kpiCharts.forEach((c) => c.resize()); }, 60);
    });
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
    $("#chart-close").addEventListener("click", () => { $("#chart-card").classList.add("hidden"); S.chartSensor = null; });
    window.addEventListener("resize", () => { if (S.chart) S.chart.resize(); S.kpiCharts.forEach((c) => c.resize()); });
    M.wireSearch(api);
  }

  window.__lifeline = S; // for debugging and the browser tests
  S.map = M;
  S.i18n = I;
  Object.defineProperty(S, "featureIndex", { get: () => M.featureIndex });
  Object.defineProperty(S, "lang", { get: () => I.lang });
  wire();
  setLang(I.lang).then(() => { if (S.token && S.user) start(); });
})();

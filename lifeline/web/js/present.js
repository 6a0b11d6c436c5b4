/* lifeline dashboard: an incident's plan, safety review, cascade, grading, evidence and audit as
 * HTML, every text from the catalogues. Plan actions are rendered from their structured fields
 * (kind, crew, operation, customers, zone; step_text/reason/label added by the API), never from
 * the plan filler's prose. */
(function () {
  "use strict";
  const LL = (window.LL = window.LL || {});
  const { esc } = LL;
  const t = (k, p) => LL.t(k, p);
  const fmtNum = (x, digits) => (x == null || !isFinite(x) ? "?" : Number(x).toFixed(digits || 0));
  const EVIDENCE_SHOWN = 40;

  /** customer_id -> customer (name, category, critical) from everything the detail carries. */
  function customerIndex(d) {
    const idx = {};
    const add = (c) => { if (c && c.customer_id && !idx[c.customer_id]) idx[c.customer_id] = c; };
    ((d.plan && d.plan.plans) || []).forEach((p) => {
      ((p.impact && p.impact.customers) || []).forEach(add);
      ((p.hazard && p.hazard.customers) || []).forEach(add);
    });
    (d.cascade || []).forEach((l) => { (l.customers || []).forEach(add); (l.critical_sites || []).forEach(add); });
    return idx;
  }
  const custLabel = (idx, id) => (idx[id] ? LL.custName(idx[id]) : String(id));
  const list = (xs) => xs.join(t("list_sep"));

  /** The text of one plan action, from its structured fields. */
  function actionText(a, d, idx) {
    const op = a.operation || {};
    switch (a.kind) {
      case "dispatch": {
        const c = a.crew || {};
        return t("act.dispatch", { crew: LL.crewLabel(c.crew_id), dist: fmtNum(c.distance_m), eta: fmtNum(Math.max(1, Math.ceil(c.eta_min || 0))) });
      }
      case "operate": {
        const asset = LL.opLabel(op);
        if (op.operation === "deenergise") return t("act.deenergise", { asset, why: t("why." + (op.why || "outside_zone")) });
        if (a.restored_customer_ids) return t("act.close_restores", { asset, n: a.restored_customer_ids.length });
        return t("act." + (["close", "open"].includes(op.operation) ? op.operation : "operate"), { asset });
      }
      case "notify": {
        const crit = a.critical_sites || [];
        const names = crit.slice(0, 10).map((id) => custLabel(idx, id));
        return t("act.notify", { n: (a.customer_ids || []).length, k: crit.length, names: names.length ? list(names) : t("none") });
      }
      case "alternative_supply": {
        const what = t("alt." + (a.utility || "other"));
        return t("act.alternative_supply", { what, name: custLabel(idx, a.target_customer_id) });
      }
      case "hazard_zone":
        return t("act.hazard_zone", { r: fmtNum(a.zone && a.zone.radius_m) });
      case "evacuate":
        return t("act.evacuate", { n: (a.customer_ids || []).length, p: a.persons == null ? "?" : a.persons });
      case "restore": {
        const plan = ((d.plan && d.plan.plans) || []).find((p) => p.plan_id === a.plan_id) || {};
        const closed = (plan.operations || []).filter((o) => o.operation === "close").map(LL.opLabel);
        const step = LL.tx(a.step_text) || t("act.restore_default");
        return closed.length ? t("act.restore", { step, names: list(closed) }) : step;
      }
      case "manual":
      default: {
        const step = LL.tx(a.step_text) || LL.tx(a.text);
        if (!a.reason) return step;
        const reason = a.reason === "other" ? a.reason_text || t("reason.other") : t("reason." + a.reason);
        return t("act.manual_reason", { step, reason });
      }
    }
  }

  LL.renderPlan = function (d) {
    const plans = (d.plan && d.plan.plans) || [];
    const idx = customerIndex(d);
    const byPlan = {};
    (d.actions || []).forEach((a) => (byPlan[a.plan_id] = byPlan[a.plan_id] || []).push(a));
    let html = plans.length
      ? plans.map((p) => `<div class="plan-title">${esc(LL.tx(p.title))}</div>` + (p.basis ? `<div class="plan-basis">${esc(t("basis"))}${esc(LL.tx(p.basis))}</div>` : "") +
          (byPlan[p.plan_id] || []).map((a) => `<div class="act" data-kind="${esc(a.kind)}"><span class="k">${esc(t("k_" + a.kind))}</span><span>${esc(actionText(a, d, idx))}</span></div>`).join("")).join("")
      : `<div class="empty">${esc(t(d.plan && d.plan.error ? "plan_failed" : "none"))}</div>`;
    html += d.approval && d.approval.by
      ? `<div class="approval ok">✔ ${esc(t("approved_by"))}${esc(d.approval.by)} · ${esc(LL.fmtTime(d.approval.at))}</div>`
      : `<div class="approval">${esc(t("not_approved"))}</div>`;
    return html;
  };

  /** The explanation of one safety rule's result, from its structured fields. */
  function ruleText(r, d, idx) {
    switch (r.rule) {
      case "hospital_supply": {
        if (!r.passed) return t("rule_bad.hospital_supply", { list: list((r.uncovered || []).map((id) => custLabel(idx, id))) });
        const n = (r.hospitals_out || []).length;
        return n ? t("rule_ok.hospital_supply", { n }) : t("rule_ok0.hospital_supply");
      }
      case "inoperable_valve":
        return r.passed ? t("rule_ok.inoperable_valve")
          : t("rule_bad.inoperable_valve", { list: list((r.violations || []).map((v) => LL.assetLabel(v.asset_id))) });
      case "ignition_sources": {
        if (!r.passed) {
          const parts = [];
          if ((r.violations || []).length) parts.push(t("rule_bad_switch.ignition_sources", { list: list(r.violations.map((v) => LL.assetLabel(v.asset_id))) }));
          if ((r.not_deenergised || []).length) parts.push(t("rule_bad_off.ignition_sources", { list: list(r.not_deenergised.map(LL.assetLabel)) }));
          return parts.join(t("clause_sep"));
        }
        const zones = ((d.plan && d.plan.plans) || []).filter((p) => p.hazard && p.hazard.radius_m != null);
        const risk = new Set((d.cascade || []).filter((c) => c.kind === "ignition_risk").map((c) => c.to_asset));
        zones.forEach((p) => (p.hazard.assets || []).forEach((a) => { if (a.utility === "power") risk.add(a.asset_id); }));
        return zones.length || risk.size ? t("rule_ok.ignition_sources", { zones: zones.length, n: risk.size }) : t("rule_ok0.ignition_sources");
      }
      default:
        return t(r.passed ? "rule_ok.generic" : "rule_bad.generic");
    }
  }

  LL.renderSafety = function (d) {
    const idx = customerIndex(d);
    return (d.safety || []).map((r) => `<li data-rule="${esc(r.rule)}"><b class="${r.passed ? "ok" : "bad"}">${r.passed ? "✔" : "✘"} ${esc(t(r.passed ? "passed" : "failed"))} · ${esc(t("rule." + r.rule))}</b><div class="why">${esc(ruleText(r, d, idx))}</div></li>`).join("")
      || `<li>${esc(t("none"))}</li>`;
  };

  function dependencyText(dep) {
    if (!dep || !dep.kind) return "";
    const key = "dep." + dep.kind;
    if (dep.kind === "inside_hazard_zone") return t(key, { r: fmtNum(dep.radius_m) });
    if (dep.distance_m != null) return t(key, { d: fmtNum(dep.distance_m, dep.distance_m < 10 ? 1 : 0) });
    return t(key, { d: "?" });
  }

  LL.renderCascade = function (d) {
    return (d.cascade || []).map((c) => {
      const to = (c.to_assets && c.to_assets.length ? c.to_assets : [c.to_asset]).map(LL.assetLabel);
      const n = c.customers_affected != null ? c.customers_affected : (c.customers || []).length;
      const crit = (c.critical_sites || []).map((s) => LL.custName(s));
      return `<li><span>${esc(LL.utilLabel(c.from_utility || d.utility))} → ${esc(LL.utilLabel(c.to_utility))}</span>${esc(t("colon"))}<b>${esc(LL.kindLabel(c.kind))}</b> · ${esc(list(to))}` +
        `<div class="why">${esc(dependencyText(c.dependency))}${n ? esc(t("clause_sep") + t("casc_customers", { n })) : ""}${crit.length ? esc(t("clause_sep") + t("casc_critical", { list: list(crit) })) : ""}</div></li>`;
    }).join("") || `<li>${esc(t("none"))}</li>`;
  };

  LL.renderGrading = function (d) {
    const g = d.grading || {};
    const out = [];
    if (d.grade) out.push(`<li><b>${esc(LL.gradeLabel(d.grade))} · ${esc(LL.gradeName(d.grade))}</b></li>`);
    const deciding = new Set(g.deciding || []);
    (g.met || []).forEach((m) => {
      out.push(`<li class="${deciding.has(m.id) ? "deciding" : ""}">${esc(t("crit." + m.id))}${esc(t("colon"))}${esc(fmtNum(m.value, m.value % 1 ? 2 : 0))} ≥ ${esc(fmtNum(m.threshold, m.threshold % 1 ? 2 : 0))} → ${esc(LL.gradeLabel(m.grade))}</li>`);
    });
    if (!(g.met || []).length && d.grade) out.push(`<li>${esc(t("grading_default"))}</li>`);
    const r = d.routing || {};
    if (r.level) out.push(`<li>${esc(t("routing"))}${esc(t("colon"))}${esc(t("route." + r.level))} · ${esc(LL.districtName(r.unit_id) || r.unit_id || "")}</li>`);
    return out.join("") || `<li>${esc(t("none"))}</li>`;
  };

  function evidenceItem(e) {
    const what = e.kind === "complaint"
      ? [t("chan." + (e.source || "hotline")), e.category ? t("ccat." + e.category) : ""]
      : e.kind === "meter_event" ? [t("mev." + (e.source || "meter"))] : [LL.detLabel(e.source)];
    const place = (e.asset_ids || []).slice(0, 2).map(LL.assetLabel);
    const text = e.detail && e.detail.text ? " — " + e.detail.text : "";
    return `<li>${esc(LL.fmtTime(e.ts))} · <b>${esc(t(e.kind))}</b> ${esc(what.filter(Boolean).join(" · "))}${place.length ? " · " + esc(list(place)) : ""}${esc(text)}</li>`;
  }

  LL.renderEvidence = function (d, all) {
    const ev = d.evidence || [];
    if (!ev.length) return `<li>${esc(t("none"))}</li>`;
    const counts = {};
    ev.forEach((e) => { counts[e.kind] = (counts[e.kind] || 0) + 1; });
    const ts = ev.map((e) => e.ts).sort();
    const head = `<li class="summary">${esc(Object.entries(counts).map(([k, n]) => t("n_of", { n, what: t(k) })).join(t("list_sep")))} · ${esc(LL.fmtTime(ts[0]))} – ${esc(LL.fmtTime(ts[ts.length - 1]))}</li>`;
    const shown = all ? ev : ev.slice(0, EVIDENCE_SHOWN);
    const more = ev.length > shown.length ? `<li><button type="button" class="link" id="evidence-more">${esc(t("show_all", { n: ev.length }))}</button></li>` : "";
    return head + shown.map(evidenceItem).join("") + more;
  };

  function actorLabel(a) {
    const s = String(a || "");
    if (s === "replay") return t("actor.replay");
    if (s.startsWith("replay:")) return t("actor.replay") + t("paren", { x: s.slice(7) });
    return s;
  }
  LL.actorLabel = actorLabel;

  LL.renderAudit = function (d) {
    return (d.audit || []).slice().reverse().map((a) => {
      const to = a.detail && a.detail.to ? " → " + LL.stateLabel(a.detail.to) : "";
      return `<li>${esc(LL.fmtTime(a.ts))} · ${esc(actorLabel(a.actor))} · ${esc(t("audit." + a.action))}${esc(to)}</li>`;
    }).join("");
  };
})();

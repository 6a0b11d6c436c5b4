"""The engine's incident stage: evidence from alarm episodes, meter events and complaints is
correlated into incidents, which are assessed (type, confirmation, cascade, plan, grade,
safety review), stored and pushed — in event time, once per window for each touched incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from lifeline.incidents.evidence import Evidence
    from lifeline.incidents.lifecycle import Incident
    from lifeline.model.city import City
    from lifeline.store import Store

log = logging.getLogger(__name__)


class IncidentStage:
    """Correlation and assessment over one city (state: the correlator's open incidents)."""

    def __init__(
        self,
        city: City,
        store: Store,
        publish: Callable[[str, dict[str, Any], str | None], None],
        assess: bool = True,
        lock: Any = None,
        shared: Any = None,
    ) -> None:
        import threading

        from lifeline.incidents.correlate import Correlator, ZoneArea, water_zone_links
        from lifeline.incidents.evidence import AssetIndex

        self.city = city
        self.store = store
        self.publish = publish
        self.do_assess = assess
        #: held while an incident's operator fields are merged and it is saved (shared with the
        #: API's incident actions, so an operator's confirm is never overwritten)
        self.lock = lock or threading.RLock()
        self.index = AssetIndex(city.assets, city.sensors)
        self.correlator = Correlator(
            area=ZoneArea.from_tables(city.assets, city.customers, links=water_zone_links(city))
        )
        c = city.customers
        self._cust_asset = {
            u: dict(
                zip(
                    c["customer_id"].astype(str),
                    c[f"{u}_asset_id"].fillna("").astype(str),
                    strict=True,
                )
            )
            for u in ("water", "power", "gas")
        }
        self._signature: dict[str, tuple[Any, ...]] = {}
        #: alarm episodes already placed in an incident → their start (ISO): an episode that
        #: grows or closes after its incident left the correlator must not open a new one
        self._placed: dict[str, str] = {}
        self._ctx: dict[str, Any] | None = None
        #: scale-out: :class:`lifeline.engine.shared.SharedIncidents` (incidents that span
        #: partitions are merged once in the store); None for a single engine
        self.shared = shared
        if shared is not None:
            shared.bind(self)

    # ---- assessment context (built on first use: network models load lazily) ----------------
    def context(self) -> dict[str, Any]:
        """Adapters, crews, dependencies, districts and grading rules of the city."""
        if self._ctx is None:
            from lifeline.incidents.grading import rules_for_city
            from lifeline.respond.adapters import city_adapters
            from lifeline.respond.crews import street_graph_from_pipes
            from lifeline.respond.fill import CrewContext

            crews = None
            try:
                util = "gas" if self.city.has("gas") else "water"
                crews = CrewContext(
                    street_graph_from_pipes(self.city.assets, util), self.city.crews
                )
            except Exception as exc:  # crews are optional for planning
                log.warning("crew context unavailable: %s", exc)
            self._ctx = {
                "adapters": city_adapters(self.city),
                "crews": crews,
                "dependencies": self.city.dependencies if len(self.city.dependencies) else None,
                "districts": self.city.districts if len(self.city.districts) else None,
                "rules": rules_for_city(self.city),
            }
        return self._ctx

    def open_count(self) -> int:
        """Incidents the correlator still holds open."""
        return len(self.correlator.incidents)

    # ---- evidence --------------------------------------------------------------------------
    def _evidence(
        self, alarms: pd.DataFrame, events: pd.DataFrame, complaints: pd.DataFrame
    ) -> list[Evidence]:
        from lifeline.incidents.evidence import Evidence

        out: list[Evidence] = []
        if len(alarms):
            out += [Evidence.from_alarm(r, self.index) for r in alarms.to_dict("records")]
        if len(events):
            out += self._event_evidence(events)
        if len(complaints):
            out += [Evidence.from_complaint(r) for r in complaints.to_dict("records")]
        return sorted(out, key=lambda e: (e.ts, e.kind, e.evidence_id))

    def _event_evidence(self, events: pd.DataFrame) -> list[Evidence]:
        """Meter and switchgear events of one window as evidence: one item per (utility, kind,
        zone) — a feeder fault's thousand last gasps are one piece of evidence listing its
        customers, not a thousand."""
        from lifeline.incidents.evidence import Evidence, to_utc

        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in events.to_dict("records"):
            util = str(r.get("utility") or "power")
            cid = str(r.get("customer_id") or "")
            asset = self._cust_asset.get(util, {}).get(cid, "") if cid else ""
            if not asset and r.get("element"):
                asset = f"{util}:{r['element']}"
            hit = self.index.resolve(asset, util) if asset else {}
            zone = str(hit.get("zone_id") or "")
            groups.setdefault((util, str(r.get("kind") or ""), zone), []).append(
                {**r, "_asset": asset, "_hit": hit}
            )
        out = []
        for (util, kind, zone), rows in sorted(groups.items()):
            rows.sort(key=lambda r: (pd.Timestamp(r["ts"]), str(r.get("event_id"))))
            pts = [
                (r["_hit"]["x_m"], r["_hit"]["y_m"])
                for r in rows
                if r["_hit"].get("x_m") is not None and r["_hit"].get("y_m") is not None
            ]
            districts = [r["_hit"].get("district_id") for r in rows if r["_hit"].get("district_id")]
            customers = sorted({str(r.get("customer_id")) for r in rows if r.get("customer_id")})
            first = to_utc(rows[0]["ts"])
            out.append(
                Evidence(
                    kind="meter_event",
                    evidence_id=f"{kind}:{zone or util}@{first:%Y%m%dT%H%M%S}",
                    ts=first,
                    utility=util,
                    source=kind,
                    x_m=sum(p[0] for p in pts) / len(pts) if pts else None,
                    y_m=sum(p[1] for p in pts) / len(pts) if pts else None,
                    confidence=0.8,
                    zone_ids=[zone] if zone else [],
                    asset_ids=sorted({r["_asset"] for r in rows if r["_asset"]}),
                    customer_id=customers[0] if len(customers) == 1 else "",
                    district_id=max(set(districts), key=districts.count) if districts else "",
                    detail={
                        "count": len(rows),
                        "customers": customers,
                        "elements": sorted({str(r["element"]) for r in rows if r.get("element")}),
                        "last": to_utc(rows[-1]["ts"]).isoformat(),
                    },
                )
            )
        return out

    # ---- the stage -------------------------------------------------------------------------
    def process(
        self,
        alarms: pd.DataFrame,
        events: pd.DataFrame,
        complaints: pd.DataFrame,
        t_end: pd.Timestamp,
    ) -> int:
        """Correlate this window's evidence, assess and save the touched incidents; returns how
        many incidents were touched."""
        evidence = self._evidence(alarms, events, complaints)
        if not evidence and not self.correlator.incidents:
            return 0
        self._sync_states()
        before = {i.incident_id for i in self.correlator.incidents}
        touched: dict[str, Incident] = {}
        for ev in evidence:
            inc = self._update_existing(ev)
            if inc is None and ev.evidence_id in self._placed:
                continue  # its incident is no longer correlated: the episode's end changes nothing
            inc = inc or self._explained_by_cascade(ev) or self.correlator.add(ev)
            if inc is not None:
                touched[inc.incident_id] = inc
                if ev.kind == "alarm":
                    self._placed[ev.evidence_id] = pd.Timestamp(ev.ts).isoformat()
        for iid in sorted(touched):
            if touched[iid] in self.correlator.incidents:
                self.assess(touched[iid])
        for host in self._absorb_explained(touched):
            touched[host.incident_id] = host
        after = {i.incident_id for i in self.correlator.incidents}
        for gone in sorted(before - after):
            self._merged_away(gone, t_end)
        for iid in sorted(touched):
            inc = touched[iid]
            if inc in self.correlator.incidents:
                self._save(inc, t_end)
        if len(alarms) and "state" in alarms.columns:  # a closed episode will not come again
            for aid in alarms.loc[alarms["state"] == "closed", "alarm_id"].astype(str):
                self._placed.pop(aid, None)
        self.correlator.prune(t_end)
        self._forget_placed(t_end)
        return len(touched)

    #: how long an open alarm episode is remembered as placed (a closed one is forgotten at once)
    PLACED_HOLD = pd.Timedelta(days=30)

    def _forget_placed(self, t_end: pd.Timestamp) -> None:
        """Drop placed episodes that started more than :attr:`PLACED_HOLD` before ``t_end``."""
        cut = (pd.Timestamp(t_end) - self.PLACED_HOLD).isoformat()
        old = [k for k, ts in self._placed.items() if ts < cut]
        for k in old:
            del self._placed[k]

    def _absorb_explained(self, touched: dict[str, Incident]) -> list[Incident]:
        """Incidents made only of alarms that another incident's cascade explains (they opened
        in the same window as its cascade became known) join that incident; returns the hosts."""
        hosts: list[Incident] = []
        for iid in sorted(touched):
            inc = touched[iid]
            if inc not in self.correlator.incidents or any(e.kind != "alarm" for e in inc.evidence):
                continue
            host = None
            for ev in inc.evidence:
                host = self._explained_by_cascade(ev)
                if host is None:
                    break
            if host is None or host is inc:
                continue
            for ev in inc.evidence:  # all of them now sit in the host as cascade evidence
                self._explained_by_cascade(ev)
            self.correlator.incidents.remove(inc)
            self.correlator._areas.pop(inc.incident_id, None)
            host.merged_from.append(inc.incident_id)
            hosts.append(host)
        return hosts

    #: how long after an incident's latest evidence its cascade still explains alarms elsewhere
    CASCADE_HOLD = pd.Timedelta(hours=2)

    def _explained_by_cascade(self, ev: Evidence) -> Incident | None:
        """An alarm that an open incident's cascade explains (pressure falling across the town
        while the pumping station has no power) joins that incident as cascade evidence instead
        of opening an incident of its own."""
        if ev.kind != "alarm":
            return None
        t = pd.Timestamp(ev.ts)
        for inc in self.correlator.incidents:
            if inc.utility == ev.utility or inc.state in ("closed", "reviewed"):
                continue
            links = [c for c in inc.cascade if c.get("to_utility") == ev.utility]
            if not links:
                continue
            last = max(pd.Timestamp(e.ts) for e in inc.evidence)
            if pd.Timestamp(inc.opened_at) <= t <= last + self.CASCADE_HOLD:
                if ev.evidence_id not in inc.evidence_ids():
                    inc.evidence.append(ev)
                    inc.grouping.append(
                        {
                            "evidence_id": ev.evidence_id,
                            "kind": ev.kind,
                            "rule": "explained_by_cascade",
                            "cascade": sorted({str(c.get("kind")) for c in links}),
                        }
                    )
                return inc
        return None

    def _update_existing(self, ev: Evidence) -> Incident | None:
        """An alarm episode that grew or closed: refresh its evidence item in place."""
        if ev.kind != "alarm":
            return None
        for inc in self.correlator.incidents:
            for k, e in enumerate(inc.evidence):
                if e.evidence_id == ev.evidence_id:
                    inc.evidence[k] = ev
                    return inc
        return None

    def _sync_states(self) -> None:
        """Operators move incidents through their lifecycle: take their states from the store."""
        if not self.correlator.incidents:
            return
        states = self.store.incident_states()
        alias = self.shared.survivors() if self.shared is not None else {}
        for inc in self.correlator.incidents:
            st = states.get(alias.get(inc.incident_id, inc.incident_id))
            if st and st != inc.state:
                inc.state = st

    def _merged_away(self, incident_id: str, t_end: pd.Timestamp) -> None:
        self._signature.pop(incident_id, None)
        target = next(
            (i.incident_id for i in self.correlator.incidents if incident_id in i.merged_from), ""
        )
        if self.shared is not None:
            if not self.shared.local_merge(incident_id, target):
                return  # it was part of another partition's incident: nothing stored to remove
        else:
            self.store.delete_incident(incident_id)
        self.store.append_audit("engine", "merge_incident", incident_id, {"into": target}, ts=t_end)
        self.publish(
            "incident", {"action": "merged", "incident_id": incident_id, "into": target}, None
        )

    def _save(self, inc: Incident, t_end: pd.Timestamp) -> None:
        """Store the assessed ``inc``; scaled out, as its partition's part of the incident it
        belongs to (:meth:`SharedIncidents.save` assesses the combined incident)."""
        if self.shared is not None:
            self.shared.save(inc, t_end)
            return
        self.store_incident(inc, t_end)

    def merge_operator_fields(self, inc: Incident) -> bool:
        """Take what people did (state, timeline, approval, audit) from the stored incident;
        True if it is not stored yet."""
        from lifeline.errors import LifelineError
        from lifeline.incidents.lifecycle import Incident as _Incident

        try:
            stored = _Incident.from_row(self.store.get_incident(inc.incident_id))
        except LifelineError:
            return True
        inc.state, inc.timeline, inc.approval, inc.audit = (
            stored.state,
            stored.timeline,
            stored.approval,
            stored.audit,
        )
        return False

    def assess(self, inc: Incident) -> None:
        """Type, confirmation, impact, cascade, plan, grade, safety review and narrative of
        ``inc`` (in place), on the operators' latest state of it."""
        from lifeline.incidents.correlate import infer_kind
        from lifeline.incidents.pipeline import assess, outage_duration_h

        self.merge_operator_fields(inc)
        inc.kind = infer_kind(inc)
        if not self.do_assess:
            return
        ctx = self.context()
        sig = (
            inc.kind,
            tuple(sorted(e.evidence_id for e in inc.evidence if e.kind == "alarm")),
        )
        if self._signature.get(inc.incident_id) != sig:
            for ad in ctx["adapters"].values():
                forget = getattr(ad, "forget", None)
                if callable(forget):
                    forget(inc.incident_id)
            self._signature[inc.incident_id] = sig
        dur = outage_duration_h(inc)
        try:
            assess(
                inc,
                ctx["adapters"],
                ctx["dependencies"],
                ctx["districts"],
                ctx["crews"],
                ctx["rules"],
                extra_impact={"duration_h": round(dur, 2)},
            )
        except Exception as exc:  # an assessment failure must not lose the incident
            log.exception("assessment of %s failed", inc.incident_id)
            inc.plan = {**inc.plan, "error": f"assessment failed: {exc}"}
        from lifeline.incidents.narrative import narrative

        inc.narrative = narrative(inc)["text"]

    def store_incident(self, inc: Incident, t_end: pd.Timestamp) -> None:
        """Save ``inc`` (keeping what operators did meanwhile), audit and push it."""
        with self.lock:
            new = self.merge_operator_fields(inc)
            self.store.upsert_incident(inc.to_row())
        self.store.append_audit(
            "engine",
            "open_incident" if new else "update_incident",
            inc.incident_id,
            {"evidence": len(inc.evidence), "grade": inc.grade, "kind": inc.kind},
            ts=t_end,
        )
        from lifeline.api.incident_ops import summary

        self.publish(
            "incident",
            {
                "action": "open_incident" if new else "update_incident",
                **summary(inc, self.city.crs),
            },
            inc.district_id or None,
        )

    # ---- state -----------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The correlator's open incidents, JSON-able."""
        return {
            "correlator": self.correlator.get_state(),
            "signatures": {k: [v[0], list(v[1])] for k, v in self._signature.items()},
            "placed": dict(self._placed),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        if "correlator" in state:
            self.correlator.set_state(state["correlator"])
        self._signature = {k: (v[0], tuple(v[1])) for k, v in state.get("signatures", {}).items()}
        self._placed = dict(state.get("placed", {}))

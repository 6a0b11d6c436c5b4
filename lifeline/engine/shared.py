"""Scale-out: an incident whose evidence spans engine partitions is stored once.

Each partition's correlator sees only its own evidence, so an incident that crosses a zone
boundary between partitions opens in both. Every partition therefore saves its incident as a
*part* (``incident_part``: its evidence, pointing to the incident it belongs to). Saving a part
(under the store-wide lock, ``pg_advisory_xact_lock`` on PostgreSQL):

1. if the part belongs to no other incident yet, look for an open incident of *another*
   partition with the same utility, overlapping time window and within the correlator's area
   or distance rule (:meth:`lifeline.incidents.correlate.Correlator._match` on each evidence
   item); if there is one, the **older** (first opened; then by its first evidence) survives: every
   part of the younger now points to it, the younger's stored incident is removed and the
   merge audited — once, whichever partition saves first;
2. the survivor is assessed on the evidence of all its parts and stored; if another partition
   changed a part meanwhile, the union is taken again.

A partition's later saves of its part go into the survivor, so the merge is exactly once and
nothing it learns afterwards is lost. The survivor's id is the older incident's, i.e. the id a
single engine would have given it (ids come from the first evidence).
"""

from __future__ import annotations

import copy
import json
import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from lifeline.engine.buffer import utc_timestamp

if TYPE_CHECKING:
    from lifeline.engine.incidents import IncidentStage
    from lifeline.incidents.lifecycle import Incident
    from lifeline.store import Store

log = logging.getLogger(__name__)

#: the store-wide lock under which parts are read and rewritten (an arbitrary 63-bit constant)
LOCK_KEY = 0x1F5E_11FE_0015
ATTEMPTS = 3


def _age(inc: Incident) -> tuple[Any, ...]:
    """Which of two incidents is older: first opened, then by its first evidence in the order
    a single engine takes evidence (time, kind, id) — so the survivor is the incident a single
    engine would have opened."""
    first = min(inc.evidence, key=lambda e: (e.ts, e.kind, e.evidence_id))
    return (
        utc_timestamp(inc.opened_at),
        utc_timestamp(first.ts),
        first.kind,
        first.evidence_id,
        inc.incident_id,
    )


class SharedIncidents:
    """The incident parts of engine partition ``partition`` in ``store`` (see module doc)."""

    def __init__(self, store: Store, partition: int) -> None:
        self.store = store
        self.partition = int(partition)
        self.stage: IncidentStage | None = None
        self.merges = 0

    def bind(self, stage: IncidentStage) -> None:
        """Attach to the incident stage (its correlator rules, assessment and publisher)."""
        self.stage = stage

    # ---- reads -------------------------------------------------------------------------------
    def survivors(self) -> dict[str, str]:
        """part id → the incident it belongs to, for this partition's parts."""
        df = self.store._query(
            "SELECT part_id, survivor_id FROM incident_part WHERE partition_no = ?",
            [self.partition],
        )
        return dict(zip(df["part_id"].astype(str), df["survivor_id"].astype(str), strict=True))

    def _parts_of(self, survivor: str) -> pd.DataFrame:
        return self.store._query(
            "SELECT part_id, partition_no, opened_at, last_ts, evidence, grouping "
            "FROM incident_part WHERE survivor_id = ? ORDER BY part_id",
            [survivor],
        )

    @staticmethod
    def _version(parts: pd.DataFrame) -> tuple[tuple[str, str], ...]:
        return tuple(zip(parts["part_id"].astype(str), parts["evidence"].astype(str), strict=True))

    # ---- saving ------------------------------------------------------------------------------
    def save(self, inc: Incident, t_end: pd.Timestamp) -> None:
        """Save this partition's incident ``inc`` as its part and store the incident it
        belongs to, assessed on the evidence of all its parts."""
        stage = self.stage
        assert stage is not None, "bind() the incident stage first"
        with self.store.locked(LOCK_KEY):
            survivor = self._claim(inc, t_end)
            parts = self._parts_of(survivor)
        for _attempt in range(ATTEMPTS):
            combined = self._combine(inc, survivor, parts)
            stage.assess(combined)
            with self.store.locked(LOCK_KEY):
                now = self._survivor_of(inc.incident_id) or survivor
                again = self._parts_of(now)
                if now == survivor and self._version(again) == self._version(parts):
                    stage.store_incident(combined, t_end)
                    return
            survivor, parts = now, again  # another partition changed the incident: redo
        log.warning("incident %s changed during %d assessments; saved the last", survivor, ATTEMPTS)
        stage.store_incident(combined, t_end)

    def _survivor_of(self, part_id: str) -> str | None:
        df = self.store._query("SELECT survivor_id FROM incident_part WHERE part_id = ?", [part_id])
        return None if df.empty else str(df["survivor_id"].iloc[0])

    def _claim(self, inc: Incident, t_end: pd.Timestamp) -> str:
        """Store ``inc`` as this partition's part and merge it with a matching incident of
        another partition (once); returns the id of the incident it belongs to."""
        survivor = self._survivor_of(inc.incident_id) or inc.incident_id
        ev = [e.to_dict() for e in inc.evidence]
        row = {
            "part_id": inc.incident_id,
            "survivor_id": survivor,
            "partition_no": self.partition,
            "utility": inc.utility,
            "opened_at": utc_timestamp(inc.opened_at),
            "last_ts": utc_timestamp(max(e.ts for e in inc.evidence)),
            "evidence": json.dumps(ev, ensure_ascii=False, default=str, sort_keys=True),
            "grouping": json.dumps(inc.grouping, ensure_ascii=False, default=str),
        }
        from lifeline.store.base import frame

        self.store._insert("incident_part", frame("incident_part", pd.DataFrame([row])), "replace")
        if survivor != inc.incident_id:
            return survivor  # merged before: its saves go into the survivor
        for other in self._matching(inc):
            mine, theirs = _age(inc), _age(other)
            win, lose = (inc.incident_id, other.incident_id)
            if theirs < mine:
                win, lose = lose, win
            self._merge(lose, win, t_end)
            survivor = win
            if win != inc.incident_id:
                break  # we now belong to an older incident
        return survivor

    def _matching(self, inc: Incident) -> list[Incident]:
        """Open incidents of other partitions that ``inc``'s evidence would join (the
        correlator's rules), oldest first."""
        from lifeline.incidents.correlate import Correlator
        from lifeline.incidents.evidence import Evidence
        from lifeline.incidents.lifecycle import Incident as _Incident

        stage = self.stage
        assert stage is not None
        c = stage.correlator
        first = min(e.ts for e in inc.evidence)
        last = max(e.ts for e in inc.evidence)
        w = pd.Timedelta(seconds=c.window_s)
        cand = self.store._query(
            "SELECT survivor_id, opened_at, evidence FROM incident_part "
            "WHERE utility = ? AND partition_no <> ? AND survivor_id <> ? "
            "AND opened_at <= ? AND last_ts >= ? ORDER BY opened_at, survivor_id",
            [
                inc.utility,
                self.partition,
                inc.incident_id,
                (utc_timestamp(last) + w).to_pydatetime(),
                (utc_timestamp(first) - w).to_pydatetime(),
            ],
        )
        if cand.empty:
            return []
        states = self.store.incident_states()
        out: list[Incident] = []
        probe = Correlator(
            area=c.area,
            window_s=c.window_s,
            max_distance_m=c.max_distance_m,
            area_max_distance_m=c.area_max_distance_m,
            candidate_min_confidence=c.candidate_min_confidence,
        )
        for sid in dict.fromkeys(cand["survivor_id"].astype(str)):
            if states.get(sid) in ("closed", "reviewed"):
                continue
            parts = self._parts_of(sid)
            evidence = {
                d["evidence_id"]: Evidence.from_dict(d)
                for text in parts["evidence"]
                for d in json.loads(text)
            }
            other = _Incident(
                incident_id=sid,
                utility=inc.utility,
                opened_at=min(utc_timestamp(t) for t in parts["opened_at"]),
                evidence=sorted(evidence.values(), key=lambda e: e.ts),
            )
            from lifeline.incidents.correlate import refine_location

            refine_location(other, c.candidate_min_confidence)
            probe._areas[sid] = set().union(*(c.area.area_of(e) for e in other.evidence))
            if any(probe._match(e, c.area.area_of(e), other) is not None for e in inc.evidence):
                out.append(other)
        return out

    def _merge(self, loser: str, winner: str, t_end: pd.Timestamp) -> None:
        """Every part of ``loser`` now belongs to ``winner``; ``loser``'s stored incident goes
        (audited and pushed once: this runs under the store-wide lock)."""
        stage = self.stage
        assert stage is not None
        self.store._execute(
            "UPDATE incident_part SET survivor_id = ? WHERE survivor_id = ?", [winner, loser]
        )
        self.store.delete_incident(loser)
        self.merges += 1
        self.store.append_audit(
            "engine",
            "merge_incident",
            loser,
            {"into": winner, "across_partitions": True, "by_partition": self.partition},
            ts=t_end,
        )
        stage.publish("incident", {"action": "merged", "incident_id": loser, "into": winner}, None)

    def _combine(self, inc: Incident, survivor: str, parts: pd.DataFrame) -> Incident:
        """The incident ``survivor``: ``inc``'s fields with the evidence of every part."""
        from lifeline.incidents.correlate import refine_location
        from lifeline.incidents.evidence import Evidence

        out = copy.deepcopy(inc)
        out.incident_id = survivor
        evidence = {e.evidence_id: e for e in inc.evidence}
        grouping = list(inc.grouping)
        opened = [utc_timestamp(inc.opened_at)]
        others: list[str] = []
        for p in parts.itertuples():
            if str(p.part_id) == inc.incident_id:
                continue
            others.append(str(p.part_id))
            opened.append(utc_timestamp(p.opened_at))
            for d in json.loads(p.evidence):
                if d["evidence_id"] not in evidence:
                    evidence[d["evidence_id"]] = Evidence.from_dict(d)
            grouping += [
                {**g, "partition": int(p.partition_no)} for g in json.loads(p.grouping or "[]")
            ]
        out.evidence = sorted(evidence.values(), key=lambda e: (e.ts, e.evidence_id))
        out.grouping = grouping
        out.opened_at = min(opened)
        out.updated_at = max(e.ts for e in out.evidence)
        out.timeline = {**out.timeline, "detected": out.opened_at.isoformat()}
        out.merged_from = sorted({*inc.merged_from, *(o for o in others if o != survivor)})
        if survivor != inc.incident_id:
            out.merged_from = sorted({*out.merged_from, inc.incident_id})
        refine_location(out, self.stage.correlator.candidate_min_confidence if self.stage else 0.5)
        return out

    def local_merge(self, gone: str, into: str) -> bool:
        """This partition's correlator merged ``gone`` into ``into``: parts that belonged to
        ``gone`` now belong to where ``into`` belongs, ``gone``'s part goes. Returns True when
        ``gone`` was a stored incident (now removed)."""
        with self.store.locked(LOCK_KEY):
            target = self._survivor_of(into) or into
            was = self._survivor_of(gone)
            self.store._execute(
                "UPDATE incident_part SET survivor_id = ? WHERE survivor_id = ?", [target, gone]
            )
            self.store._execute("DELETE FROM incident_part WHERE part_id = ?", [gone])
            if was is None or was == gone:
                self.store.delete_incident(gone)
                return True
            return False

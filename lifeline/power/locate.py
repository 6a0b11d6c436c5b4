"""`lifeline power locate`: operated device, fault region and a verified FLISR plan.

Pipeline (see :mod:`lifeline.power.infer` and :mod:`lifeline.power.restore`):

1. contract the network into switchable sections and its normal supply tree;
2. operated devices: protection trips, else inferred from meter last gasps and calls;
3. unsupplied customers: those the devices cut (minus customers whose supply came back);
4. fault region per device from fault passage indicators (fired and fitted-but-silent);
5. isolate the region, re-close the devices that do not bound it, restore the rest through
   ties, verified by pandapower power flow.

The output follows the stable contract of the issue (one JSON object).
"""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

from lifeline.errors import InputError, NetworkModelError
from lifeline.power.evidence import Evidence, build_evidence, read_events, read_fpi_installed
from lifeline.power.infer import InferenceParams, fault_region, infer_devices
from lifeline.power.restore import Limits, SearchParams, plan_restoration
from lifeline.power.topology import build_sections, supply_tree


def load_network(path: Path, use_cache: bool = True) -> Any:
    """Load a pandapower network saved with ``pandapower.to_json``; errors name the file.

    Parsing a large JSON network takes about a second, so a pickled copy is kept under
    ``<cache_dir>/power/<sha1 of the file>.pkl`` (the settings' cache directory) and reused
    while the file's content is unchanged. ``use_cache=False`` always parses the JSON.
    """
    import hashlib
    import pickle

    import pandapower as pp

    from lifeline.config import get_settings

    if not path.is_file():
        raise InputError("network file not found", str(path))
    raw = path.read_bytes()
    cache = get_settings().cache_dir / "power" / f"{hashlib.sha1(raw).hexdigest()}.pkl"
    if use_cache and cache.is_file():
        try:
            with cache.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # stale or partial cache entry: parse the JSON again
            pass
    try:
        net = pp.from_json_string(raw.decode("utf-8"), convert=True)
    except Exception as exc:  # pandapower raises many kinds on malformed JSON
        raise NetworkModelError(f"not a pandapower network JSON: {exc}", str(path)) from exc
    if not len(net.bus) or not len(net.ext_grid):
        raise NetworkModelError("network has no buses or no ext_grid (no source)", str(path))
    if use_cache:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(net, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(cache)
        except OSError:
            pass  # a read-only cache only costs time
    return net


def _check_refs(net: Any, ev: Evidence, events_path: Path) -> None:
    sw = set(int(i) for i in net.switch.index)
    loads = set(int(i) for i in net.load.index)
    for e in ev.events:
        pool = sw if e.kind in ("breaker_trip", "fpi") else loads
        if e.ref not in pool:
            what = "switch" if e.kind in ("breaker_trip", "fpi") else "load"
            raise InputError(
                f"field 'ref': {e.kind} refers to {what} {e.ref}, which is not in the network",
                str(events_path),
            )
    if ev.fpi_installed is not None:
        bad = sorted(ev.fpi_installed - sw)
        if bad:
            raise InputError(f"field 'switch': switches {bad[:5]} not in the network", "FPI file")


def locate(
    net: Any,
    ev: Evidence,
    limits: Limits | None = None,
    search: SearchParams | None = None,
    inference: InferenceParams | None = None,
) -> dict[str, Any]:
    """Infer device, fault section and a verified restoration plan for ``ev`` on ``net``.

    Returns the contract's dict: outage_device (object, list of two, or None), fault_section
    (``lines``), unsupplied_loads, plan (``open``/``close`` switch indices applied to the normal
    states, opens first), restored_loads, unserved_loads, checks (``min_vm_pu``; and
    ``max_loading_percent``, the largest line or transformer loading in %). Loads are indices of
    ``net.load``. ``net`` is not modified.
    """
    g = build_sections(net)
    tree = supply_tree(g)
    devices = infer_devices(g, tree, ev, inference)
    restored_now = ev.restored()
    outage_area: set[int] = set()
    region: set[int] = set()
    region_detail: list[dict[str, Any]] = []
    for d in devices:
        outage_area |= set(tree.cut.get(d.switch, frozenset()))
        r, det = fault_region(g, tree, d, ev)
        region |= r
        region_detail.append({"device": d.switch, **det})
    unsupplied = sorted(i for i in g.loads_of(outage_area) if i not in restored_now)
    work = copy.deepcopy(net)
    plan = plan_restoration(
        work, g, outage_area, region, [d.switch for d in devices], limits, search
    )
    unsupplied_set = set(unsupplied)
    dev_json: Any
    objs = [{"element": "switch", "index": int(d.switch)} for d in devices]
    dev_json = None if not objs else objs[0] if len(objs) == 1 else objs
    return {
        "outage_device": dev_json,
        "fault_section": {"lines": g.lines_of(region)},
        "unsupplied_loads": unsupplied,
        "plan": {"open": [int(s) for s in plan.open], "close": [int(s) for s in plan.close]},
        "restored_loads": [int(i) for i in plan.restored_loads if i in unsupplied_set],
        "unserved_loads": [int(i) for i in plan.unserved_loads if i in unsupplied_set],
        "checks": {
            "min_vm_pu": None if math.isnan(plan.min_vm_pu) else round(plan.min_vm_pu, 6),
            "max_loading_percent": None
            if math.isnan(plan.max_loading_percent)
            else round(plan.max_loading_percent, 4),
        },
    }


def locate_files(
    network: Path,
    events: Path,
    fpi_installed: Path | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """File front end of :func:`locate`: read inputs, validate references, write ``out``."""
    net = load_network(network)
    evs = read_events(events)
    fpi = read_fpi_installed(fpi_installed) if fpi_installed is not None else None
    ev = build_evidence(evs, fpi)
    _check_refs(net, ev, events)
    result = locate(net, ev)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
    return result

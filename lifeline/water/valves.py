"""Water isolation valves: the utility's own valve table, or a generated layer."""

from __future__ import annotations

from typing import Any

import pandas as pd

#: seed of the generated valve layer (stable ids between builds)
SEED = 25832


def generate_valves(wn: Any, seed: int = SEED) -> pd.DataFrame:
    """WNTR's strategic N-2 valve layer (two valves at every junction, on two of its pipes):
    columns ``valve, node, link``; valve ids ``WV<n>``."""
    import wntr

    vl = wntr.network.layer.generate_valve_layer(wn, placement_type="strategic", n=2, seed=seed)
    out = vl.reset_index(drop=True)
    out.insert(0, "valve", [f"WV{i + 1}" for i in range(len(out))])
    return out[["valve", "node", "link"]]

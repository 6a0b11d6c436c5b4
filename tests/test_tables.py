"""CLI tables never cut an id, even in a narrow console."""

from __future__ import annotations

from rich.console import Console

from lifeline.tables import fit_width, make_table

ROW = [
    "INC-20260715-1540-d39bab",
    "power",
    "power_feeder_fault",
    "schutterwald-nw",
    "alarm 8, complaint 5, meter_event 1034",
    "pumping_station_power_loss",
]
COLS = ["id", "utility", "kind", "district", "evidence", "cascade"]


def test_ids_stay_whole_and_the_table_fits() -> None:
    for width in (120, 80):
        console = Console(width=width, record=True)
        console.print(fit_width(make_table("t", COLS, [ROW], whole=["id", "kind"]), width))
        text = console.export_text()
        assert "INC-20260715-1540-d39bab" in text and "power_feeder_fault" in text
        assert max(len(line) for line in text.splitlines()) <= width

"""``known_leaks.csv``: the leaks a utility knows of in its history, checked row by row, kept in
the City, written back by ``write_package`` and handed to the live leak detector as labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lifeline.model.city import load_city
from lifeline.model.known_leaks import OPEN_END
from lifeline.model.validate import validate_city

ROWS = [
    "pipe,start,end,kind,peak,note",
    "111,2026-03-02T08:10:00+08:00,2026-03-04T17:00:00+08:00,abrupt,,main burst",  # 2: good
    "105,2026-02-01 00:00,,incipient,2026-02-20 00:00,",  # 3: good, still running
    "9999,2026-03-02 00:00,2026-03-03 00:00,abrupt,,",  # 4: no such pipe
    "107,yesterday,2026-03-03 00:00,abrupt,,",  # 5: not a time
    "109,2026-03-05 00:00,2026-03-03 00:00,abrupt,,",  # 6: repaired before it began
    "111,2026-04-01 00:00,2026-04-02 00:00,pipe-burst,,",  # 7: unknown kind
    "113,2026-04-01 00:00,2026-04-10 00:00,incipient,2026-05-01 00:00,",  # 8: peak after end
]


def _package(ykt_copy: Path) -> Path:
    (ykt_copy / "known_leaks.csv").write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return ykt_copy


def test_bad_rows_are_named_and_good_rows_kept(ykt_copy: Path, tmp_path: Path) -> None:
    root = _package(ykt_copy)
    errs = {
        (p.line, p.field): p.message
        for p in validate_city(root, solve=False).report.errors
        if p.file == "known_leaks.csv"
    }
    assert set(errs) == {(4, "pipe"), (5, "start"), (6, "end"), (7, "kind"), (8, "peak")}
    assert "9999" in errs[(4, "pipe")] and "EPANET" in errs[(4, "pipe")]
    assert "yesterday" in errs[(5, "start")]
    assert "pipe-burst" in errs[(7, "kind")]

    from lifeline.model.build import build_city
    from lifeline.model.package import read_package

    city = build_city(read_package(root), strict=False)
    kl = city.known_leaks
    assert kl["pipe"].tolist() == ["111", "105"]
    # an offset is converted to UTC; a time without one is UTC already
    assert kl["start"].iloc[0] == pd.Timestamp("2026-03-02 00:10")
    assert kl["end"].iloc[0] == pd.Timestamp("2026-03-04 09:00")
    assert pd.isna(kl["end"].iloc[1]) and kl["peak"].iloc[1] == pd.Timestamp("2026-02-20")
    assert kl["kind"].tolist() == ["abrupt", "incipient"]


def test_round_trip_and_labels_of_the_live_detector(ykt_copy: Path, tmp_path: Path) -> None:
    root = _package(ykt_copy)
    lines = (root / "known_leaks.csv").read_text().splitlines()[:3]
    (root / "known_leaks.csv").write_text("\n".join(lines) + "\n")
    city = load_city(root, cache_dir=tmp_path / "cache")
    # read again from the cache: the same table
    again = load_city(root, cache_dir=tmp_path / "cache")
    pd.testing.assert_frame_equal(again.known_leaks, city.known_leaks)

    from lifeline.model.write import write_package

    out = tmp_path / "written"
    write_package(city, out)
    back = load_city(out, cache_dir=tmp_path / "cache2")
    pd.testing.assert_frame_equal(back.known_leaks, city.known_leaks)

    from lifeline.water.online import build

    det = build(city, city.sensors[city.sensors["utility"] == "water"])
    got = [(k.pipe, k.start, k.end, k.kind, k.peak) for k in det.labels]
    assert got == [
        ("111", pd.Timestamp("2026-03-02 00:10"), pd.Timestamp("2026-03-04 09:00"), "abrupt", None),
        ("105", pd.Timestamp("2026-02-01"), OPEN_END, "incipient", pd.Timestamp("2026-02-20")),
    ]

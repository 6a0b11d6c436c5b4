"""bench/blind_ledger.py: the first blind score of each generated year, read from the git history
of bench/results (a throw-away repository built by the test)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "blind_ledger", ROOT / "bench" / "blind_ledger.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _year(world: int, share: float, fp: int, seen: bool = False) -> dict[str, Any]:
    return {
        "network": "ltown",
        "world": world,
        "year": 1,
        "seen": seen,
        "fraction_of_perfect": share,
        "tp": 10,
        "fp": fp,
        "leaks": 20,
    }


def _commit(repo: Path, files: dict[str, list[dict[str, Any]]], message: str) -> None:
    for name, years in files.items():
        path = repo / "bench" / "results" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"generated": {"years": years}}))
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            message,
        ],
        check=True,
    )


def test_the_first_blind_score_counts_not_a_later_rerun_or_a_variant(tmp_path: Path) -> None:
    mod = _module()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _commit(
        tmp_path,
        {
            "battledim_fresh.json": [_year(1, 0.40, 5), _year(2, 0.90, 1, seen=True)],
            # the method before, scored beside it: skipped, even for a world only it holds
            "battledim_fresh_before.json": [_year(1, 0.10, 9), _year(4, 0.20, 3)],
        },
        "first scores",
    )
    # a later re-run of world 1 (after it was looked at) and a new world 3
    _commit(tmp_path, {"battledim_fresh.json": [_year(1, 0.75, 2), _year(3, 0.72, 2)]}, "rerun")
    rows = mod.ledger(tmp_path)
    got = {r["world"]: (r["share_of_perfect"], r["fp"], r["file"]) for r in rows}
    assert got == {1: (0.40, 5, "battledim_fresh.json"), 3: (0.72, 2, "battledim_fresh.json")}
    summ = mod.summary(rows)["ltown"]
    assert summ["years"] == 2
    assert summ["mean_share_of_perfect"] == pytest.approx(0.56)
    assert summ["worst_share_of_perfect"] == pytest.approx(0.40)
    assert summ["mean_fp"] == pytest.approx(3.5)
    assert summ["years_meeting_target"] == 1  # world 3: >= 70 % with <= 2 false alarms
    png = tmp_path / "ledger.png"
    mod.plot(rows, mod.summary(rows), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_a_results_file_that_is_not_json_is_skipped(tmp_path: Path) -> None:
    mod = _module()
    assert mod._years("{not json") == []
    assert mod._years(json.dumps({"split": {}})) == []


def test_a_shallow_clone_is_refused_rather_than_read_as_the_whole_record(tmp_path: Path) -> None:
    mod = _module()
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _commit(repo, {"battledim_fresh.json": [_year(1, 0.40, 5)]}, "first")
    _commit(repo, {"battledim_fresh2.json": [_year(2, 0.50, 4)]}, "second")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True
    )
    assert [r["world"] for r in mod.ledger(repo)] == [1, 2]
    with pytest.raises(ValueError, match="shallow clone"):
        mod.ledger(shallow)

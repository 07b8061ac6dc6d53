"""``python -m bench`` keeps working: one JSON object per figure with the documented keys, a
summary line last, and an exit status that says whether every target was met."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.profiling import where_time_goes
from bench.report import Figure

REPO = Path(__file__).resolve().parents[2]
KEYS = {"bench", "value", "unit", "baseline", "ratio", "target", "ok"}


@pytest.mark.slow
def test_a_bench_prints_its_figures_and_a_summary_line() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "cards", "--quick"], cwd=REPO, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    *figures, summary = lines
    assert figures and all(KEYS <= set(figure) for figure in figures), run.stdout + run.stderr
    [largest] = [f for f in figures if f["bench"] == "cards.largest_message"]
    assert largest["unit"] == "bytes" and 1_000 < largest["value"] and largest["details"]["messages"] >= 10
    # A size, not a time: the same on any machine. The 1,000-subscription customer's cards, money
    # shown (issue 21), still fit in a Teams message.
    assert largest["details"]["messages_with_prices"] > 0 and largest["value"] <= 80_000 and largest["ok"] is True
    assert summary["summary"] is True and summary["figures"] == len(figures) and summary["machine"]["cpus"] >= 1
    assert run.returncode == (0 if summary["ok"] else 1)


def test_a_ratio_is_value_over_baseline_and_absent_without_one() -> None:
    assert Figure("x", 90.0, "turns/s", ">= 0.8", ok=True, baseline=100.0).to_json()["ratio"] == 0.9
    assert Figure("x", 90.0, "bytes", "<= 80000", ok=True).to_json()["ratio"] is None


def test_profiles_are_summed_by_the_innermost_frame() -> None:
    collapsed = (
        "main (app.py:1);turn (bot/teams_bot.py:10);dumps (storage/_codec.py:42) 30\n"
        "main (app.py:1);serialize (msrest/serialization.py:5) 70\n"
    )
    areas, functions, total = where_time_goes(collapsed)
    assert total == 100
    assert areas["offboard: storage/"] == 30 and areas["msrest (SDK serialisation)"] == 70
    assert functions.most_common(1)[0] == ("serialize (msrest/serialization.py)", 70)

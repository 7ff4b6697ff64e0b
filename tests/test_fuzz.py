"""Fuzzing the model over its declared parameter ranges: every run stays finite, or is refused.

Every numeric model parameter (``params.*`` with a declared range in ``sim/params.py``) is drawn
uniformly inside its range, all at once; a combination that validation refuses (a ``ValueError``
naming the key) counts as refused, never as a failure. Each accepted draw runs the whole default
period (ensemble engine, one seed) and every state, perception and outcome must stay finite.
CI runs a small sample; ``make fuzz`` runs the 2,000 draws of issue 11's check (1,486 s measured
under load: too long for the suite).
"""

from __future__ import annotations

import numpy as np

from sim.ensemble import simulate_chunk
from sim.params import Params, parameter_table, with_values

FUZZ_SEED = 20261130


def fuzzed_ranges() -> list[tuple[str, float, float]]:
    """Every numeric model parameter with a finite declared range."""
    ranges = []
    for row in parameter_table():
        bounds = row.get("range")
        if not row["key"].startswith("params.") or bounds is None or isinstance(row["default"], bool):
            continue
        low, high = bounds
        if low is not None and high is not None and isinstance(row["default"], int | float):
            ranges.append((str(row["key"]), float(low), float(high)))
    return ranges


def fuzz(draws: int, seed: int = FUZZ_SEED) -> tuple[int, int, list[str]]:
    """Run ``draws`` random parameter sets; return (runs, refused, failures naming the draw and variable)."""
    rng = np.random.default_rng(seed)
    ranges = fuzzed_ranges()
    base = Params()
    runs, refused, failures = 0, 0, []
    for k in range(draws):
        values = {key: float(rng.uniform(low, high)) for key, low, high in ranges}
        try:
            params = with_values(base, values)
            traj = simulate_chunk(params, [k], keep_dyads=True, keep_actions=False)
        except ValueError:
            refused += 1
            continue
        runs += 1
        for group in (traj.states, traj.dyads, traj.outcomes):
            for name, array in group.items():
                bad = ~np.isfinite(array) & ~np.isposinf(array) if name == "ceiling" else ~np.isfinite(array)
                if bad.any():
                    turn = int(np.argwhere(bad)[0][0])
                    failures.append(f"draw {k}: {name} not finite at turn {turn}")
    return runs, refused, failures


def test_fuzz_small_sample_stays_finite() -> None:
    runs, refused, failures = fuzz(40)
    assert failures == []
    assert runs >= 30  # most draws are runnable: validation refuses only impossible combinations
    assert runs + refused == 40


def main() -> None:
    """``make fuzz``: the 2,000-draw check of issue 11 (tens of minutes on 2 cores: kept out of the suite)."""
    runs, refused, failures = fuzz(2000, seed=FUZZ_SEED + 1)
    print(f"fuzz: 2000 draws, {runs} run, {refused} refused by validation, {len(failures)} non-finite")
    for failure in failures:
        print(f"  {failure}")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()

"""sim/finite.py: a run that produces a non-finite value stops, naming actor, quarter, variable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import compose_config, compose_params

import sim.ensemble
from sim.finite import NonFiniteError, check_finite
from sim.initial import initial_conditions
from sim.runs import replicate_seeds


def test_nan_and_infinities_are_named_with_actor_quarter_and_variable() -> None:
    params = compose_params([])
    state, _ = initial_conditions(params)
    codes = tuple(params.actors.codes)
    check_finite(state, codes, 2010, 1)  # the start is finite
    ceiling = state.ceiling.copy()
    ceiling[0, 0] = np.inf  # no ceiling: allowed
    check_finite(replace(state, ceiling=ceiling), codes, 2010, 1)
    spending = state.spending.copy()
    spending[0, codes.index("JPN")] = np.nan
    with pytest.raises(NonFiniteError, match=r"spending=nan for JPN in 2013Q2"):
        check_finite(replace(state, spending=spending), codes, 2013, 2)
    threat = state.threat.copy()
    threat[0, codes.index("VNM"), codes.index("CHN")] = -np.inf
    with pytest.raises(NonFiniteError, match=r"threat=-inf for VNM toward CHN in 2020Q4"):
        check_finite(replace(state, threat=threat), codes, 2020, 4)
    ceiling[0, 1] = np.nan
    with pytest.raises(NonFiniteError, match="ceiling=nan"):
        check_finite(replace(state, ceiling=ceiling), codes, 2010, 1)
    assert issubclass(NonFiniteError, ValueError)  # the command line's bad-input exit code 2


def _diverging(turn_at: int) -> Any:
    """``sim.turn.advance`` that makes Japan's alignment NaN at turn ``turn_at`` (a diverging model)."""
    real = sim.ensemble.advance

    def advance(state: Any, anchors: Any, inputs: Any, params: Any, turn: int, noise: Any) -> Any:
        state, actions, extra = real(state, anchors, inputs, params, turn, noise)
        if turn == turn_at:
            alignment = state.alignment.copy()
            alignment[:, inputs.codes.index("JPN")] = np.nan
            state = replace(state, alignment=alignment)
        return state, actions, extra

    return advance


def test_a_diverging_ensemble_run_stops_at_the_first_non_finite_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.ensemble, "advance", _diverging(turn_at=6))
    with pytest.raises(NonFiniteError, match=r"alignment=nan for JPN in 2011Q3"):
        sim.ensemble.simulate_ensemble(compose_params([]), replicate_seeds(1, 2), names=("outcomes",))


def test_a_diverging_job_is_bad_input_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.job as cli

    monkeypatch.setattr(sim.ensemble, "advance", _diverging(turn_at=6))
    folder = tmp_path / "runs" / "baseline" / "job"
    folder.mkdir(parents=True)
    cfg = compose_config(["replicates=2", f"results_root={tmp_path}"])
    with pytest.raises(NonFiniteError):
        cli.run_job(cfg, folder)
    assert sorted(p.name for p in folder.iterdir()) == []  # no table, no config, no meta: nothing complete

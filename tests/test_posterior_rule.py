"""A posterior records the alignment rule it was calibrated under; a run under another is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.posterior import load_posterior


def _write(path: Path, **extra: object) -> str:
    path.write_text(json.dumps({"keys": ["params.landscape.gain"], "samples": [[1.0]], "losses": [0.5], **extra}))
    return str(path)


def test_a_posterior_without_a_rule_is_balance_of_threat_and_refuses_another(tmp_path: Path) -> None:
    posterior = load_posterior(_write(tmp_path / "old.json"))
    assert posterior.alignment_rule == "balance_of_threat"
    posterior.check_rule("balance_of_threat", "old.json")
    with pytest.raises(ValueError, match=r"alignment_rule=balance_of_threat.*alignment_rule=landscape"):
        posterior.check_rule("landscape", "old.json")


def test_a_recorded_rule_is_read_and_an_unknown_one_refused(tmp_path: Path) -> None:
    assert load_posterior(_write(tmp_path / "l.json", alignment_rule="landscape")).alignment_rule == "landscape"
    with pytest.raises(ValueError, match="alignment_rule='voting'"):
        load_posterior(_write(tmp_path / "v.json", alignment_rule="voting"))

"""The calibrated point's rule (experiments/calibrated_point.py): patterns first, then the likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.calibrated_point import Point, check_rule, choose
from experiments.common import ExperimentError


def test_choose_takes_the_most_patterns_then_the_highest_likelihood() -> None:
    """Hand-worked: particles 1 and 2 hold 12 patterns; 2 is the more likely; 3, the most likely, holds 10."""
    assert choose(np.array([11, 12, 12, 10]), np.array([70.0, 60.0, 61.0, 80.0])) == 2


def test_choose_breaks_a_likelihood_tie_by_order() -> None:
    assert choose(np.array([12, 12]), np.array([5.0, 5.0])) == 0


def test_an_unknown_rule_is_refused_naming_the_key_and_the_allowed_values() -> None:
    allowed = "patterns_then_likelihood, likelihood"
    with pytest.raises(ExperimentError, match=rf"experiment.point='best'; allowed: {allowed}"):
        check_rule("best")


def test_the_notes_say_which_rule_chose_and_what_it_cost() -> None:
    """The likelihood rule's header is the one written before the pattern rule (replicate files unchanged)."""
    assert Point(1, "likelihood", pd.DataFrame()).note(np.array([1.0, 2.0])) == "the particle of highest likelihood"
    patterns = pd.DataFrame({"count": [11, 12, 12]})
    note = Point(2, "patterns_then_likelihood", patterns).note(np.array([65.35, 60.0, 61.63]))
    assert "(12 of them; 2 of 3 particles do)" in note
    assert "log-likelihood 61.63; the most likely particle: 65.35, with 11 patterns" in note

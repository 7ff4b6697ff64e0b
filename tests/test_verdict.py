"""The verdict's grading rule on hand-made share samples (experiments/verdict.py)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.verdict import Thresholds, distribution, grade, grade_definition, verdict_document

PLAYERS = ["china", "nk", "russia"]
RULE = Thresholds(majority_share=0.5, support_probability=0.9, contradict_probability=0.1)


def sample(china: list[float]) -> np.ndarray:
    """Rows (china, nk, russia) with the rest split evenly between the other two."""
    c = np.asarray(china)
    return np.column_stack([c, (1 - c) / 2, (1 - c) / 2])


def test_all_draws_above_half_is_supported() -> None:
    result = grade_definition(sample([0.6, 0.7, 0.55, 0.8]), PLAYERS, "china", RULE)
    assert result["p_china_share_above_half"] == 1.0
    assert result["p_china_largest"] == 1.0
    assert result["grade"] == "supported"
    assert result["n_draws"] == 4
    assert result["largest_player"] == "china"


def test_all_draws_below_half_is_contradicted() -> None:
    result = grade_definition(sample([0.2, 0.3, 0.45, 0.4]), PLAYERS, "china", RULE)
    assert result["p_china_share_above_half"] == 0.0
    assert result["grade"] == "contradicted"


def test_a_split_sample_is_undetermined_with_its_probability() -> None:
    # 6 of 10 draws above one half: P = 0.6, between the thresholds.
    result = grade_definition(sample([0.6] * 6 + [0.45] * 4), PLAYERS, "china", RULE)
    assert result["p_china_share_above_half"] == pytest.approx(0.6)
    assert result["p_china_largest"] == 1.0  # 0.45 is still above 0.275 each
    assert result["grade"] == "undetermined"


def test_not_the_largest_in_most_draws_is_contradicted() -> None:
    # China at 0.4 while North Korea has 0.5 in 95 of 100 draws: not the largest.
    rows = np.array([[0.4, 0.5, 0.1]] * 95 + [[0.6, 0.3, 0.1]] * 5)
    result = grade_definition(rows, PLAYERS, "china", RULE)
    assert result["p_china_largest"] == pytest.approx(0.05)
    assert result["grade"] == "contradicted"


def test_boundary_probabilities_follow_the_inclusive_rule() -> None:
    assert grade(0.9, 0.95, RULE) == "supported"
    assert grade(0.89, 1.0, RULE) == "undetermined"
    assert grade(0.1, 1.0, RULE) == "contradicted"
    assert grade(0.11, 0.11, RULE) == "undetermined"


def test_distribution_quantiles_of_a_uniform_grid() -> None:
    out = distribution(np.linspace(0.0, 1.0, 101))
    assert out["median"] == pytest.approx(0.5)
    assert out["interval_50"] == pytest.approx([0.25, 0.75])
    assert out["interval_90"] == pytest.approx([0.05, 0.95])


def test_non_finite_draws_are_dropped_and_counted() -> None:
    rows = np.vstack([sample([0.7, 0.8]), [[np.nan, np.nan, np.nan]]])
    result = grade_definition(rows, PLAYERS, "china", RULE)
    assert (result["n_draws"], result["n_draws_dropped"]) == (2, 1)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"majority_share": 1.2}, "majority_share"),
        ({"support_probability": 0.4}, "support_probability"),
        ({"contradict_probability": 0.6}, "contradict_probability"),
        ({"typo": 0.5}, "typo"),
    ],
)
def test_bad_thresholds_name_the_key(section: dict[str, float], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        Thresholds.from_config(section)


def test_document_carries_source_draws_thresholds_and_rule() -> None:
    narrow = grade_definition(sample([0.6, 0.7]), PLAYERS, "china", RULE)
    doc = verdict_document({"narrow": narrow}, RULE, "posterior", 2)
    assert doc["parameter_source"] == "posterior" and doc["n_draws"] == 2
    assert doc["thresholds"]["support_probability"] == 0.9
    assert "0.9" in doc["rule"]
    with pytest.raises(ValueError, match="parameter_source"):
        verdict_document({}, RULE, "guess", 1)

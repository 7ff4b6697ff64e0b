"""The verdict on claim C0 from a sample of driver shares: probabilities and a grade.

C0 (CLAIMS.md): Beijing's own behaviour explains the largest share of Japan's shift, above one
half. A *definition* says which of the attribution's players is "Beijing's own behaviour"
(``narrow``: its coercion alone; ``broad``: coercion and build-up together; the driver registry
defines them). From a sample of every player's share (one row per posterior draw, or per run
at one configured parameter point), :func:`grade_definition` gives the distribution of China's share
(median, 50% and 90% intervals), the probability that it is above ``majority_share`` and the
probability that it is the largest, and a grade by thresholds fixed in the experiment config
before any run (:class:`Thresholds`):

- ``supported``: both probabilities at least ``support_probability``;
- ``contradicted``: either probability at most ``contradict_probability``;
- ``undetermined``: otherwise (the model's uncertainty leaves the claim open).

The thresholds are printed with the verdict, so a reader can see how demanding it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

GRADES = ("supported", "contradicted", "undetermined")


@dataclass(frozen=True)
class Thresholds:
    """The grading rule's thresholds (from the experiment config, fixed before any run).

    Attributes
    ----------
    majority_share
        China's share must exceed this (C0's "mostly": 0.5).
    support_probability
        ``supported`` when P(share > majority) and P(largest) are both at least this.
    contradict_probability
        ``contradicted`` when either probability is at most this.
    """

    majority_share: float = 0.5
    support_probability: float = 0.9
    contradict_probability: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < self.majority_share < 1.0:
            raise ValueError(f"verdict.majority_share={self.majority_share}; allowed: 0 < value < 1")
        if not 0.5 < self.support_probability <= 1.0:
            raise ValueError(f"verdict.support_probability={self.support_probability}; allowed: 0.5 < value <= 1")
        if not 0.0 <= self.contradict_probability < 0.5:
            raise ValueError(f"verdict.contradict_probability={self.contradict_probability}; allowed: 0 <= value < 0.5")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Thresholds:
        """Thresholds from a config section with exactly the keys of this class."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(section) - allowed
        if unknown:
            raise ValueError(f"verdict has unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        return cls(**{k: float(v) for k, v in section.items()})

    def rule(self) -> str:
        """The grading rule in words, with its numbers."""
        return (
            f"supported if P(China's share > {self.majority_share:g}) and P(China's share is the largest) are both "
            f">= {self.support_probability:g}; contradicted if either is <= {self.contradict_probability:g}; "
            "undetermined otherwise"
        )


def grade(p_above: float, p_largest: float, thresholds: Thresholds) -> str:
    """The grade of C0 from its two probabilities (see the module docstring)."""
    if min(p_above, p_largest) <= thresholds.contradict_probability:
        return "contradicted"
    if min(p_above, p_largest) >= thresholds.support_probability:
        return "supported"
    return "undetermined"


def distribution(sample: np.ndarray) -> dict[str, Any]:
    """Median, 50% and 90% central intervals of a 1-D sample."""
    q = np.quantile(sample, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "median": float(q[2]),
        "interval_50": [float(q[1]), float(q[3])],
        "interval_90": [float(q[0]), float(q[4])],
    }


def grade_definition(shares: np.ndarray, players: Sequence[str], china: str, thresholds: Thresholds) -> dict[str, Any]:
    """The verdict of one definition from a sample of shares.

    Parameters
    ----------
    shares
        Shape (D, K): every player's share of Japan's shift in each of D draws (rows with a
        non-finite value, e.g. a draw in which the drivers moved nothing, are dropped and counted).
    players
        The K players' names, in column order.
    china
        The player that is Beijing's own behaviour under this definition.
    thresholds
        The grading rule.

    Returns
    -------
    dict
        ``china_player``, ``n_draws``, ``n_draws_dropped``, ``china_share`` (median, intervals),
        ``p_china_share_above_half``, ``p_china_largest``, ``grade``, ``largest_player`` (modal)
        and every player's share distribution under ``players``.
    """
    values = np.asarray(shares, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(players):
        raise ValueError(f"shares of shape {values.shape} for {len(players)} players; allowed: (draws, players)")
    if china not in players:
        raise ValueError(f"china={china!r} is not a player; allowed: {list(players)}")
    finite = np.all(np.isfinite(values), axis=1)
    values = values[finite]
    if len(values) == 0:
        raise ValueError("no draw with finite shares; allowed: a sample with at least one finite row")
    c = list(players).index(china)
    china_share = values[:, c]
    p_above = float(np.mean(china_share > thresholds.majority_share))
    p_largest = float(np.mean(china_share >= values.max(axis=1)))
    largest = np.bincount(values.argmax(axis=1), minlength=len(players))
    return {
        "china_player": china,
        "n_draws": len(values),
        "n_draws_dropped": int((~finite).sum()),
        "china_share": distribution(china_share),
        "p_china_share_above_half": p_above,
        "p_china_largest": p_largest,
        "grade": grade(p_above, p_largest, thresholds),
        "largest_player": str(players[int(largest.argmax())]),
        "players": {name: distribution(values[:, k]) for k, name in enumerate(players)},
    }


def verdict_document(
    definitions: Mapping[str, dict[str, Any]],
    thresholds: Thresholds,
    parameter_source: str,
    n_draws: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``verdict.json`` document: source of the parameters, thresholds and rule, each definition."""
    if parameter_source not in ("posterior", "defaults"):
        raise ValueError(f"parameter_source={parameter_source!r}; allowed: 'posterior', 'defaults'")
    return {
        "claim": "C0: Beijing's own behaviour explains the largest share of Japan's shift, above one half",
        "parameter_source": parameter_source,
        "n_draws": int(n_draws),
        "thresholds": asdict(thresholds),
        "rule": thresholds.rule(),
        "definitions": dict(definitions),
        **dict(extra or {}),
    }


# --------------------------------------------------------------------------------------------
# Definitions of "Beijing's own behaviour" over the driver registry, and C0 at one point
# --------------------------------------------------------------------------------------------

DEFINITIONS = {
    "narrow": "China's coercion alone (driver china_coercion), one player among the registered drivers",
    "broad": "every China-owned driver together (Owen group value of owner CHN), one player among the owners",
}
NARROW_DRIVER = "china_coercion"
CHINA_OWNER = "CHN"
SECOND_OWNERS = ("PRK", "RUS")  # C0: North Korea's and Russia's contributions are positive


@dataclass(frozen=True)
class Definition:
    """The players of one definition and which of them are Beijing and the claim's second drivers.

    ``players`` are driver names (``narrow``) or owner codes (``broad``); ``members[p]`` are the
    drivers that make up player ``p``.
    """

    name: str
    players: tuple[str, ...]
    members: Mapping[str, tuple[str, ...]]
    china: str
    second: tuple[str, ...]


def definition(name: str, drivers: Sequence[str], owner_of: Mapping[str, str]) -> Definition:
    """The ``narrow`` or ``broad`` definition over the registered ``drivers`` (``owner_of[d]``: ISO-3)."""
    if name == "narrow":
        if NARROW_DRIVER not in drivers:
            raise ValueError(f"definition narrow needs driver {NARROW_DRIVER!r}; registered: {list(drivers)}")
        second = tuple(d for d in drivers if owner_of[d] in SECOND_OWNERS)
        return Definition(name, tuple(drivers), {d: (d,) for d in drivers}, NARROW_DRIVER, second)
    if name == "broad":
        owners = tuple(dict.fromkeys(owner_of[d] for d in drivers))
        if CHINA_OWNER not in owners:
            raise ValueError(f"definition broad needs a driver owned by {CHINA_OWNER}; registered: {list(drivers)}")
        members = {o: tuple(d for d in drivers if owner_of[d] == o) for o in owners}
        return Definition(name, owners, members, CHINA_OWNER, tuple(o for o in owners if o in SECOND_OWNERS))
    raise ValueError(f"definition {name!r}; allowed: {list(DEFINITIONS)}")


def holds_at_point(shares: np.ndarray, contributions: np.ndarray, definition: Definition, majority: float) -> bool:
    """C0 at a point estimate: China's share above ``majority`` and the largest; the second players' positive."""
    players = list(definition.players)
    china = shares[players.index(definition.china)]
    second = [contributions[players.index(n)] for n in definition.second]
    return bool(china > majority and china >= shares.max() and all(c > 0 for c in second))

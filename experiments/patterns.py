"""The record's patterns: ``python -m experiments.patterns``.

Pattern-oriented modelling (Grimm et al. 2005, Science 310:987): the model must reproduce
several qualitative facts of the record to 2021 at once, with one parameter set
(``docs/reference/PATTERNS.md``, P1-P13). Each pattern becomes one number computed here
from annual means of a run; its tolerance (threshold and side) is stated in
``configs/experiment/patterns.yaml``, fixed before the model's values were seen.

The statistic is measured at the calibrated point (the ``params`` option, ``calibrated`` by
default: the pattern *holds* where that value is on the stated side of the threshold) and on
each of ``draws`` posterior draws (``posterior_file``), all with one seed so that the interval
is parametric: the median, the 90% interval and the share of draws on the stated side. A
statistic that needs an actor missing from the actor set is NaN and the pattern does not hold.

Outputs: ``patterns.csv`` (one row per pattern), ``patterns_by_draw.csv``, ``patterns.png``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from experiments.common import Experiment, ExperimentError, entry_point
from experiments.sampling import evaluate
from sim.config import CONFIG_DIR
from sim.ensemble import simulate_chunk
from sim.inputs import read_table
from sim.params import Params, with_values
from sim.posterior import load_posterior
from sim.records import OVERALL_ALIGNMENT

NAME = "patterns"
SIDES = ("above", "below")

# What each pattern says (docs/reference/PATTERNS.md) and the statistic computed for it.
DESCRIPTIONS = {
    "P1": (
        "The US sees China as its principal challenger from 2017",
        "min over years of T(USA,CHN) - max other T(USA,j)",
    ),
    "P2": (
        "Russia and China are partners, not each other's main threat",
        "min over years of min(T(RUS,USA) - T(RUS,CHN), T(CHN,USA) - T(CHN,RUS))",
    ),
    "P3": (
        "North Korea fears the US, not its treaty partners",
        "min over years of min(T(PRK,USA) - max other, ratio*T(PRK,USA) - max(T(PRK,CHN), T(PRK,RUS)))",
    ),
    "P4": (
        "Japan's main concerns are China and North Korea",
        "min over years of min(T(JPN,CHN), T(JPN,PRK)) - max other T(JPN,j)",
    ),
    "P5": (
        "Front-line claimants feel China most, Cambodia and Laos least",
        "period means of T(i,CHN): min(min(PHL,VNM) - max(rest), min(rest) - max(KHM,LAO))",
    ),
    "P6": ("Cambodia and Laos lean to China throughout", "-max over years of max(x_KHM, x_LAO)"),
    "P7": ("Myanmar does not swing to the US", "-max over years of x_MMR"),
    "P8": ("The Philippines moves away from the US 2016-2021", "x_PHL(first) - x_PHL(last)"),
    "P9": ("Thailand drifts toward China after 2014", "x_THA(first) - x_THA(last)"),
    "P10": (
        "Vietnam rises toward the US, below the treaty allies",
        "min(x_VNM(last) - x_VNM(first), min allies x(last) - x_VNM(last))",
    ),
    "P11": (
        "Indonesia, Malaysia and Singapore hedge near the middle, moving slowly",
        "min over states of min(middle - max |x|, slow - |x(last) - x(first)|)",
    ),
    "P12": (
        "Southeast Asian burdens do not rise where SIPRI's fall",
        "max over states with falling SIPRI shares of the model's relative share change",
    ),
    "P13": ("Japan stays near 1% of GDP to 2021", "max - min over years of s_JPN (% of GDP points)"),
}


@dataclass(frozen=True)
class Yearly:
    """Annual means of one run: threat (Y, N, N), alignment (Y, N), spending (Y, N)."""

    codes: tuple[str, ...]
    years: np.ndarray
    threat: np.ndarray
    alignment: np.ndarray
    spending: np.ndarray

    def rows(self, span: tuple[int, int]) -> np.ndarray:
        """Mask of the years in ``span`` (inclusive)."""
        return (self.years >= span[0]) & (self.years <= span[1])

    def at(self, year: int) -> int:
        """Index of ``year``."""
        return int(np.flatnonzero(self.years == year)[0])


def yearly_run(params: Params, seed: int) -> Yearly:
    """Annual means of one run of ``params`` (the ensemble engine; turn 0 included)."""
    traj = simulate_chunk(params, [seed], keep_dyads=True, keep_actions=False)
    years = np.unique(traj.year)

    def annual(values: np.ndarray) -> np.ndarray:
        return np.stack([values[traj.year == y, 0].mean(axis=0) for y in years])

    return Yearly(
        codes=tuple(traj.codes),
        years=years,
        threat=annual(traj.dyads["threat"]),
        alignment=annual(traj.states[OVERALL_ALIGNMENT]),
        spending=annual(traj.states["spending"]),
    )


class MissingActor(LookupError):
    """A pattern names an actor that is not in the actor set."""


def _ix(run: Yearly, *codes: str) -> list[int]:
    missing = [c for c in codes if c not in run.codes]
    if missing:
        raise MissingActor(", ".join(missing))
    return [run.codes.index(c) for c in codes]


def _lead(run: Yearly, observer: str, leaders: tuple[str, ...], span: tuple[int, int]) -> np.ndarray:
    """Per year: the smallest threat of ``observer`` from ``leaders`` minus its largest from anyone else."""
    (i,) = _ix(run, observer)
    lead = _ix(run, *leaders)
    others = [j for j in range(len(run.codes)) if j not in lead and j != i]
    threat = run.threat[run.rows(span), i]
    return np.asarray(threat[:, lead].min(axis=1) - threat[:, others].max(axis=1))


def p1(run: Yearly, spec: Mapping[str, Any]) -> float:
    return float(_lead(run, "USA", ("CHN",), spec["years"]).min())


def p2(run: Yearly, spec: Mapping[str, Any]) -> float:
    rus, chn, usa = _ix(run, "RUS", "CHN", "USA")
    t = run.threat[run.rows(spec["years"])]
    return float(np.minimum(t[:, rus, usa] - t[:, rus, chn], t[:, chn, usa] - t[:, chn, rus]).min())


def p3(run: Yearly, spec: Mapping[str, Any]) -> float:
    prk, usa, chn, rus = _ix(run, "PRK", "USA", "CHN", "RUS")
    t = run.threat[run.rows(spec["years"]), prk]
    partners = float(spec["partner_ratio"]) * t[:, usa] - np.maximum(t[:, chn], t[:, rus])
    return float(np.minimum(_lead(run, "PRK", ("USA",), spec["years"]), partners).min())


def p4(run: Yearly, spec: Mapping[str, Any]) -> float:
    return float(_lead(run, "JPN", ("CHN", "PRK"), spec["years"]).min())


def p5(run: Yearly, spec: Mapping[str, Any], region: tuple[str, ...]) -> float:
    (chn,) = _ix(run, "CHN")
    ix = _ix(run, *region)
    mean = dict(zip(region, run.threat[run.rows(spec["years"])][:, ix, chn].mean(axis=0), strict=True))
    front, rear = ("PHL", "VNM"), ("KHM", "LAO")
    _ix(run, *front, *rear)
    rest = [mean[c] for c in region if c not in front + rear]
    return float(min(min(mean[c] for c in front) - max(rest), min(rest) - max(mean[c] for c in rear)))


def p6(run: Yearly, spec: Mapping[str, Any]) -> float:
    return float(-run.alignment[run.rows(spec["years"])][:, _ix(run, "KHM", "LAO")].max())


def p7(run: Yearly, spec: Mapping[str, Any]) -> float:
    return float(-run.alignment[run.rows(spec["years"]), _ix(run, "MMR")[0]].max())


def _fall(run: Yearly, code: str, span: tuple[int, int]) -> float:
    (i,) = _ix(run, code)
    return float(run.alignment[run.at(span[0]), i] - run.alignment[run.at(span[1]), i])


def p8(run: Yearly, spec: Mapping[str, Any]) -> float:
    return _fall(run, "PHL", spec["years"])


def p9(run: Yearly, spec: Mapping[str, Any]) -> float:
    return _fall(run, "THA", spec["years"])


def p10(run: Yearly, spec: Mapping[str, Any]) -> float:
    first, last = run.at(spec["years"][0]), run.at(spec["years"][1])
    (vnm,) = _ix(run, "VNM")
    allies = _ix(run, *spec["allies"])
    rise = run.alignment[last, vnm] - run.alignment[first, vnm]
    return float(min(rise, run.alignment[last, allies].min() - run.alignment[last, vnm]))


def p11(run: Yearly, spec: Mapping[str, Any]) -> float:
    first, last = run.at(spec["years"][0]), run.at(spec["years"][1])
    ix = _ix(run, *spec["states"])
    x = run.alignment[:, ix]
    middle = float(spec["middle"]) - np.abs(x[run.rows(spec["years"])]).max(axis=0)
    slow = float(spec["slow"]) - np.abs(x[last] - x[first])
    return float(np.minimum(middle, slow).min())


def p12(run: Yearly, spec: Mapping[str, Any], falling: tuple[str, ...]) -> float:
    first, last = run.at(spec["years"][0]), run.at(spec["years"][1])
    ix = _ix(run, *falling)
    return float(((run.spending[last, ix] - run.spending[first, ix]) / run.spending[first, ix]).max())


def p13(run: Yearly, spec: Mapping[str, Any]) -> float:
    s = run.spending[run.rows(spec["years"]), _ix(run, "JPN")[0]]
    return float(s.max() - s.min())


def falling_sipri_shares(region: tuple[str, ...], span: tuple[int, int]) -> tuple[str, ...]:
    """Region states whose SIPRI share of GDP is lower at the end of ``span`` than at its start."""
    names = dict(zip(*read_table("actors.csv", ("code", "name"))[["code", "name"]].to_numpy().T, strict=True))
    milex = read_table("sipri_milex.csv", ("year", "country", "metric", "value"))
    milex = milex[milex["metric"] == "milex_share_gdp"].assign(value=lambda f: pd.to_numeric(f["value"], "coerce"))
    mean = milex.dropna(subset=["value"]).groupby(["country", "year"], as_index=False)["value"].mean()
    shares = {(str(c), int(y)): float(v) for c, y, v in zip(mean["country"], mean["year"], mean["value"], strict=True)}
    falling = []
    for code in region:
        first, last = shares.get((names.get(code, ""), span[0])), shares.get((names.get(code, ""), span[1]))
        if first is not None and last is not None and last < first:
            falling.append(code)
    return tuple(falling)


Statistic = Callable[[Yearly, Mapping[str, Any]], float]


def statistics(params: Params, specs: Mapping[str, Mapping[str, Any]]) -> dict[str, Statistic]:
    """Each pattern's statistic, bound to the actor set's region and the data."""
    region = tuple(params.actors.region)
    falling = falling_sipri_shares(region, specs["P12"]["years"])
    return {
        "P1": p1, "P2": p2, "P3": p3, "P4": p4,
        "P5": functools.partial(p5, region=region),
        "P6": p6, "P7": p7, "P8": p8, "P9": p9, "P10": p10, "P11": p11,
        "P12": functools.partial(p12, falling=falling),
        "P13": p13,
    }  # fmt: skip


def measure(run: Yearly, stats: Mapping[str, Statistic], specs: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Every pattern's statistic on one run (NaN where an actor it needs is absent)."""
    values = {}
    for name, stat in stats.items():
        try:
            values[name] = stat(run, specs[name])
        except MissingActor:
            values[name] = float("nan")
    return values


def holds(value: float | np.ndarray, spec: Mapping[str, Any]) -> np.ndarray:
    """Whether ``value`` lies on the stated side of the threshold (NaN never holds)."""
    v = np.asarray(value, dtype=float)
    threshold = float(spec["threshold"])
    return np.asarray(v > threshold if spec["holds_if"] == "above" else v < threshold)


def check_specs(specs: Mapping[str, Any], params: Params) -> dict[str, dict[str, Any]]:
    """The config's pattern entries, validated: every pattern once, a threshold, a side, a span."""
    missing = sorted(set(DESCRIPTIONS) - set(specs), key=lambda p: int(p[1:]))
    unknown = sorted(set(specs) - set(DESCRIPTIONS))
    if missing or unknown:
        raise ExperimentError(
            f"experiment.patterns: missing {missing}, unknown {unknown}; allowed: exactly {list(DESCRIPTIONS)}"
        )
    out = {}
    for name, raw in specs.items():
        spec = dict(raw)
        if spec.get("holds_if") not in SIDES:
            raise ExperimentError(f"experiment.patterns.{name}.holds_if={spec.get('holds_if')!r}; allowed: {SIDES}")
        years = tuple(int(y) for y in spec.get("years", ()))
        run = params.run
        if len(years) != 2 or not run.start_year <= years[0] < years[1] <= run.end_year:
            raise ExperimentError(
                f"experiment.patterns.{name}.years={list(years)}; allowed: [first, last] inside "
                f"{run.start_year}..{run.end_year}, first < last"
            )
        spec["years"] = years
        spec["threshold"] = float(spec["threshold"])
        out[name] = spec
    return out


def shipped_specs(params: Params) -> tuple[dict[str, dict[str, Any]], int]:
    """The tolerances of ``configs/experiment/patterns.yaml`` (checked) and its last year, for other experiments."""
    raw = yaml.safe_load((CONFIG_DIR / "experiment" / "patterns.yaml").read_text())["experiment"]
    last_year = int(raw["last_year"])
    return check_specs(raw["patterns"], with_values(params, {"run.end_year": last_year})), last_year


def patterns_held(
    params_list: Sequence[Params], specs: Mapping[str, Mapping[str, Any]], seed: int, workers: int
) -> pd.DataFrame:
    """Which pattern holds (a column each, bool) in the run of each parameter set (a row each), with ``seed``.

    The parameter sets must share the actor set and stop at the patterns' last year.
    """
    stats = statistics(params_list[0], specs)
    runs = evaluate(functools.partial(yearly_run, seed=seed), params_list, workers, desc="patterns of draws")
    values = pd.DataFrame([measure(r, stats, specs) for r in runs], columns=list(DESCRIPTIONS))
    return pd.DataFrame({name: holds(values[name].to_numpy(), specs[name]) for name in DESCRIPTIONS})


def patterns_figure(table: pd.DataFrame) -> Figure:
    """Each pattern's margin from its tolerance (> 0: holds): posterior interval, median, calibrated point."""
    sign = np.where(table["holds_if"] == "above", 1.0, -1.0)
    rows = np.arange(len(table))[::-1]
    fig, ax = plt.subplots(figsize=(11.0, 0.45 * len(table) + 2.0))
    low = sign * (np.where(sign > 0, table["low"], table["high"]) - table["threshold"])
    high = sign * (np.where(sign > 0, table["high"], table["low"]) - table["threshold"])
    ax.hlines(rows, low, high, color="#1f77b4", lw=3, alpha=0.5, label="posterior 90% interval")
    ax.plot(sign * (table["median"] - table["threshold"]), rows, "o", color="#1f77b4", label="posterior median")
    point = sign * (table["value"] - table["threshold"])
    colours = np.where(table["holds"], "#2ca02c", "#d62728")
    ax.scatter(point, rows, marker="D", c=colours, zorder=3, label="calibrated point (green: holds)")
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(rows, [f"{p}  {d}" for p, d in zip(table["pattern"], table["description"], strict=True)])
    ax.set_xlabel("margin from the stated tolerance (statistic's units; > 0 holds)")
    held = int(table["holds"].sum())
    fig.suptitle(f"The record's patterns to 2021: {held} of {len(table)} hold at the calibrated point")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    fig.tight_layout()
    return fig


def run(ex: Experiment) -> dict[str, Any]:
    """Measure every pattern at the calibrated point and over posterior draws; write the table and figure."""
    options = ex.options
    last_year = int(options["last_year"])
    if not ex.params.run.start_year < last_year <= ex.params.run.end_year:
        raise ExperimentError(
            f"experiment.last_year={last_year}; allowed: {ex.params.run.start_year + 1}..{ex.params.run.end_year}"
        )
    base = with_values(ex.params, {"run.end_year": last_year})
    specs = check_specs(options["patterns"], base)
    stats = statistics(base, specs)
    posterior = load_posterior(str(ex.cfg.posterior_file))
    requested = int(options["draws"])
    if requested < 1:
        raise ExperimentError(f"experiment.draws={requested}; allowed: an integer >= 1")
    draws = min(requested, len(posterior.samples))  # at most the posterior sample's size
    seed = int(ex.cfg.seed)
    params_list = [base] + [posterior.params(base, k) for k in range(draws)]
    # Common random numbers: every draw runs with the same seed, so the interval is parametric.
    runs = evaluate(functools.partial(yearly_run, seed=seed), params_list, int(options["workers"]))
    ex.runs_done += len(runs)
    values = pd.DataFrame([measure(r, stats, specs) for r in runs], columns=list(DESCRIPTIONS))
    by_draw = values.iloc[1:].reset_index(drop=True)
    rows = []
    for name, spec in specs.items():
        draws_v = by_draw[name].to_numpy()
        point = float(values[name].iloc[0])
        rows.append(
            {
                "pattern": name,
                "description": DESCRIPTIONS[name][0],
                "statistic": DESCRIPTIONS[name][1],
                "years": f"{spec['years'][0]}-{spec['years'][1]}",
                "holds_if": spec["holds_if"],
                "threshold": spec["threshold"],
                "value": point,
                "median": float(np.nanmedian(draws_v)) if np.isfinite(draws_v).any() else np.nan,
                "low": float(np.nanquantile(draws_v, 0.05)) if np.isfinite(draws_v).any() else np.nan,
                "high": float(np.nanquantile(draws_v, 0.95)) if np.isfinite(draws_v).any() else np.nan,
                "share_of_draws_holding": float(holds(draws_v, spec).mean()),
                "holds": bool(holds(point, spec)),
            }
        )
    table = pd.DataFrame(rows)
    ex.write_csv("patterns", table)
    ex.write_csv("patterns_by_draw", by_draw.assign(draw=np.arange(draws), seed=seed))
    ex.save_figure(patterns_figure(table), "patterns")
    return {
        "holds": int(table["holds"].sum()),
        "of": len(table),
        "draws": draws,
        "by_pattern": {r.pattern: bool(r.holds) for r in table.itertuples()},
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()

"""The interactive dashboard: a Mesa SolaraViz page that runs the alignment model live.

Start it with ``make dashboard`` (or ``solara run sim.app --host 127.0.0.1 --port 8765
--production``) and open the address it prints; it needs no network once installed
(``make install`` puts Solara's page assets in the virtual env).

The sidebar holds Mesa's controls (*Step*, play/pause, *Reset*) and the model parameters: the
scale of every registered driver (``drivers.<name>.scale``, ``sim/drivers``), three behavioural
parameters, the scenario and the seed. Choosing a scenario sets the driver sliders to its scales
at once; a changed setting takes effect on *Reset*. The page plots
every actor's alignment and Japan's China-wants gap with its five dimensions W1..W5, one point
per quarter, and prints the command line that reproduces the run.

The page only drives the model. Settings become the same Hydra overrides the command line takes
(:func:`dashboard_overrides`), composed by Hydra into validated parameters, so
``python -m sim <overrides>`` gives the run the page shows. A driver that the chosen scenario
sets itself (``china_coercion`` under ``no_china_coercion``) keeps the scenario's value and a
move of its slider is ignored (the page says so): a scenario's counterfactual is never undone silently. The
outcomes are computed by :func:`sim.outcomes.outcome_arrays`, the function behind
``outcomes.parquet``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from functools import lru_cache
from html import escape
from io import BytesIO
from typing import Any

import numpy as np
import solara
from matplotlib import colormaps  # the registry, not pyplot: no global figure state in a server
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz

from sim import config
from sim import drivers as registry
from sim.config import (
    CONFIG_DIR,
    JobOptions,
    check_scenario_not_overridden,
    scenario_driver_settings,
)
from sim.drivers import names as driver_names
from sim.model import AlignmentModel
from sim.outcomes import W_COLUMNS, outcome_arrays
from sim.params import Params
from sim.plots import actor_styles, spread_labels
from sim.turn import State, stack

DEFAULT_SCENARIO = "baseline"
# Behavioural parameters on the page: keyword of DashboardModel -> (config key, label, max, step).
# Chosen because the claim turns on them: how strongly states balance against threat, how long
# hostile intent is remembered, and how hard Beijing pushes back on drift (the spiral).
KEY_PARAMETERS: dict[str, tuple[str, str, float, float]] = {
    "balancing_gain": ("params.alignment.balancing_gain", "Balancing gain β_b", 5.0, 0.1),
    "intent_decay_per_quarter": ("params.perception.intent_decay_per_quarter", "Intent decay δ_I", 0.5, 0.01),
    "china_spiral_gain": ("params.policy.china_spiral_gain", "Spiral gain γ", 5.0, 0.1),
}
GAP = "china_wants_gap"
FIGURE_INCHES = (6.4, 4.4)
FIGURE_DPI = 90  # ~the size the page shows them at; each step redraws both figures
SLIDER_DECIMALS = 6  # slider floats (0.1 * 3 = 0.30000000000000004) are rounded before use


def scenario_names() -> list[str]:
    """Names of the scenario files in ``configs/scenario/``, the baseline first."""
    names = sorted(path.stem for path in (CONFIG_DIR / "scenario").glob("*.yaml"))
    return sorted(names, key=lambda name: name != DEFAULT_SCENARIO)


def value_of(params: Params, key: str) -> float:
    """Value of a dotted parameter key (e.g. ``params.alignment.balancing_gain``) in ``params``."""
    value: Any = params
    for part in key.split("."):
        value = getattr(value, part)
    return float(value)


def default_value(key: str) -> float:
    """Default of a dotted parameter key in the default configuration (:data:`DEFAULTS`)."""
    return value_of(DEFAULTS, key)


def parse_seed(seed: int | str) -> int:
    """The seed as an integer >= 0 (the page's text box passes a string).

    Raises
    ------
    ValueError
        Naming the value and what is allowed.
    """
    text = str(seed).strip()
    if isinstance(seed, bool) or not text.isdigit():
        raise ValueError(f"seed={seed!r}; allowed: an integer >= 0")
    return int(text)


def _number(value: float) -> str:
    return repr(round(float(value), SLIDER_DECIMALS))


def dashboard_overrides(
    scenario_name: str, seed: int, driver_scales: Mapping[str, float], parameters: Mapping[str, float]
) -> list[str]:
    """The Hydra overrides (as for ``python -m sim``) that the page's settings stand for.

    Parameters
    ----------
    scenario_name : str
        A file name of ``configs/scenario/`` without ``.yaml``.
    seed : int
        The run's seed.
    driver_scales : Mapping[str, float]
        Driver name -> ``drivers.<name>.scale`` in [0, 2] on the page. Drivers that the scenario
        sets itself are left to the scenario.
    parameters : Mapping[str, float]
        Keyword of :data:`KEY_PARAMETERS` -> value.

    Returns
    -------
    list[str]
        ``scenario=...``, ``seed=...``, then one override per value that differs from its default
        (a parameter: whose slider position differs from the default's, :func:`slider_position`).

    Raises
    ------
    ValueError
        An unknown scenario, driver or parameter, named with the allowed ones.
    """
    allowed = scenario_names()
    if scenario_name not in allowed:
        raise ValueError(f"scenario={scenario_name!r}; allowed: {allowed}")
    unknown = sorted(set(driver_scales) - set(driver_names())) + sorted(set(parameters) - set(KEY_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}; allowed: {[*driver_names(), *KEY_PARAMETERS]}")
    overrides = [f"scenario={scenario_name}", f"seed={seed}"]
    fixed_by_scenario = scenario_driver_settings(scenario_name)
    for name, scale in driver_scales.items():
        key = f"drivers.{name}.scale"
        if name not in fixed_by_scenario and round(scale, SLIDER_DECIMALS) != default_value(key):
            overrides.append(f"{key}={_number(scale)}")
    for name, value in parameters.items():
        key, _label, _maximum, step = KEY_PARAMETERS[name]
        if slider_position(value, step) != slider_position(default_value(key), step):
            overrides.append(f"{key}={_number(value)}")
    return overrides


def slider_position(value: float, step: float) -> int:
    """The step of a slider's grid nearest ``value``.

    A calibrated default lies off the grid (``balancing_gain`` 1.864239 on steps of 0.1) and the
    page's slider shows it rounded to its step (1.9). Left at that position, the slider stands for
    the default itself, so an untouched page runs what ``python -m sim`` runs; another position
    is an override.
    """
    return round(value / step)


@lru_cache(maxsize=32)
def compose_params(overrides: tuple[str, ...]) -> Params:
    """Validated parameters of ``configs/`` composed with ``overrides``, as ``python -m sim`` builds them.

    Raises
    ------
    ValueError, KeyError
        From validation (a bad value, an unknown key) or an override that undoes the scenario.
    """
    params = config.compose_params(overrides)
    check_scenario_not_overridden(params)
    return params


# The page starts from the default configuration (configs/config.yaml: the shipped calibrated
# point, params=calibrated), so an untouched page runs what a bare `python -m sim` runs.
DEFAULTS = compose_params(())


def current_state(model: AlignmentModel) -> State:
    """The state of every actor after the model's last turn (one run: arrays of shape (1, N, ...))."""
    state = stack([agent.state for agent in model.actors])
    assert isinstance(state, State)
    return state


def live_outcomes(model: AlignmentModel) -> dict[str, float]:
    """Japan's W1..W5, the China-wants gap and the regional means after the model's last turn.

    The same function as the ``outcomes`` result table (:func:`sim.outcomes.outcome_arrays`),
    applied to the agents' current state.
    """
    arrays = outcome_arrays(current_state(model), model.inputs, model.params.params)
    return {column: float(values[0]) for column, values in arrays.items()}


def japan_gap(model: AlignmentModel) -> float:
    """Japan's China-wants gap in [0, 1] after the model's last turn (0 = as Beijing wants)."""
    return live_outcomes(model)[GAP]


class DashboardModel(AlignmentModel):
    """The alignment model built from the page's plain keyword values; it records its outcomes live.

    SolaraViz creates the model by calling the class with the slider values, so every setting is
    a keyword with a default (those of the default configuration, :data:`DEFAULTS`: the shipped
    calibrated point, the baseline scenario and the config's seed).

    Parameters
    ----------
    china_coercion, nk_provocation, russia_war, us_pressure, japan_domestic_trend : float
        ``drivers.<name>.scale``: 1 = as in history or as the policy produces, 0 = absent (C0).
        Ignored for a driver the scenario sets itself.
    balancing_gain, intent_decay_per_quarter, china_spiral_gain : float
        The parameters of :data:`KEY_PARAMETERS` (units and sources in ``sim/params.py``).
    scenario_name : str
        A scenario of ``configs/scenario/`` (not ``scenario``: Mesa's Model reserves that name).
    seed : int or str
        The run's seed, an integer >= 0.
    lenient_seed : bool
        False (default): a bad seed raises ValueError. True (the page sets it): a bad seed is
        replaced by the config's seed and the error kept in ``setting_errors`` for the page to
        show, because an exception in Mesa's *Reset* handler replaces the page by a traceback.

    Attributes
    ----------
    overrides : list[str]
        The Hydra overrides of this run (``python -m sim`` + these reproduces it).
    ignored_drivers : list[str]
        Drivers whose slider differs from 1 but which the scenario sets itself.
    setting_errors : list[str]
        Settings that could not be used (only with ``lenient_seed``).
    times : list[float]
        Decimal year of each recorded turn (2010Q1 = 2010.0, 2010Q2 = 2010.25, ...).
    alignments : list[np.ndarray]
        Alignment of every actor (order of ``inputs.codes``) at each recorded turn.
    outcomes : list[dict[str, float]]
        :func:`live_outcomes` at each recorded turn.
    """

    def __init__(
        self,
        balancing_gain: float = DEFAULTS.params.alignment.balancing_gain,
        intent_decay_per_quarter: float = DEFAULTS.params.perception.intent_decay_per_quarter,
        china_spiral_gain: float = DEFAULTS.params.policy.china_spiral_gain,
        scenario_name: str = DEFAULT_SCENARIO,
        seed: int | str = JobOptions.seed,
        lenient_seed: bool = False,
        **driver_scales: float,
    ) -> None:
        drivers = {name: DEFAULTS.drivers.knob(name).scale for name in driver_names()} | driver_scales
        parameters = {
            "balancing_gain": balancing_gain,
            "intent_decay_per_quarter": intent_decay_per_quarter,
            "china_spiral_gain": china_spiral_gain,
        }
        errors = []
        try:
            seed_value = parse_seed(seed)
        except ValueError as err:
            if not lenient_seed:
                raise
            seed_value = JobOptions.seed
            errors.append(f"{err}; this run uses seed={seed_value}")
        overrides = dashboard_overrides(scenario_name, seed_value, drivers, parameters)
        super().__init__(compose_params(tuple(overrides)), seed_value)
        self.overrides = overrides
        self.setting_errors = errors
        fixed = scenario_driver_settings(scenario_name)
        self.ignored_drivers = [
            name
            for name, scale in drivers.items()
            if name in fixed and round(scale, SLIDER_DECIMALS) != default_value(f"drivers.{name}.scale")
        ]
        self.times: list[float] = []
        self.alignments: list[np.ndarray] = []
        self.outcomes: list[dict[str, float]] = []
        self._record()

    def step(self) -> None:
        """Advance one quarter and record the actors' alignments and Japan's outcomes."""
        before = self.turn
        super().step()
        if self.turn != before:
            self._record()

    def _record(self) -> None:
        t = self.turn
        self.times.append(float(self.inputs.year[t]) + (float(self.inputs.quarter[t]) - 1.0) / 4.0)
        self.alignments.append(np.array([agent.alignment for agent in self.actors]))
        self.outcomes.append(live_outcomes(self))

    @property
    def is_reference(self) -> bool:
        """True if the settings are the baseline scenario with every default (only the seed may differ)."""
        return self.overrides[0] == f"scenario={DEFAULT_SCENARIO}" and len(self.overrides) == 2

    @property
    def command(self) -> str:
        """The command line that writes this run's tables and figures."""
        return "python -m sim " + " ".join(self.overrides)

    @property
    def time_span(self) -> tuple[float, float]:
        """First and last decimal year of the run."""
        last = self.n_turns - 1
        return float(self.inputs.year[0]), float(self.inputs.year[last]) + (float(self.inputs.quarter[last]) - 1) / 4


@lru_cache(maxsize=8)
def reference_gap(seed: int) -> np.ndarray:
    """Japan's gap per turn in the baseline scenario with the configured parameters and ``seed`` (whole run).

    Drawn under a counterfactual so that its effect shows while the run unfolds; cached because
    it costs a full run (~1 s).
    """
    model = DashboardModel(seed=seed)
    while model.running:
        model.step()
    return np.array([row[GAP] for row in model.outcomes])


def short_label(column: str) -> str:
    """Legend label of an outcome column: ``w3_claims_resistance`` -> ``W3 claims resistance``."""
    number, name = column.split("_", 1)
    return f"{number.upper()} {name.replace('_', ' ')}"


def run_label(model: DashboardModel) -> str:
    """Scenario and seed of a run, marked when page settings change the scenario's defaults."""
    changed = " + settings" if len(model.overrides) > 2 else ""
    return f"{model.params.scenario.name}{changed}, seed {model.seed}"


def _figure(bottom: float = 0.115) -> tuple[Figure, Any]:
    # Fixed margins instead of a layout engine: the page redraws both figures every quarter, and
    # constrained layout costs about as much as the drawing itself.
    fig = Figure(figsize=FIGURE_INCHES, dpi=FIGURE_DPI)
    fig.subplots_adjust(left=0.125, right=0.97, bottom=bottom, top=0.93)
    return fig, fig.subplots()


def alignment_figure(model: DashboardModel) -> Figure:
    """Every non-pole actor's alignment up to the current turn, on the whole run's time axis."""
    fig, ax = _figure()
    codes = model.inputs.codes
    poles = (model.params.actors.china_pole, model.params.actors.us_pole)
    series = np.array(model.alignments)  # (turns so far, N)
    shown = [i for i, code in enumerate(codes) if code not in poles]
    marker = "o" if len(model.times) == 1 else None  # a single point draws no line
    styles = actor_styles([codes[i] for i in shown])
    ends = []
    for i in shown:
        color, dashes = styles[codes[i]]
        ax.plot(model.times, series[:, i], color=color, ls=dashes, lw=1.6, marker=marker, ms=3)
        ends.append((float(series[-1, i]), codes[i], color))
    start, end = model.time_span
    # One label line (8 pt, 1.3 spacing) in alignment units on this axis. The actors' labels stay
    # between the poles' lines, the poles' labels outside them: no label crosses a line or another.
    line = 8 * 1.3 / (FIGURE_INCHES[1] * 0.815 * 72) * 2.2
    heights = spread_labels([e[0] for e in ends], line, low=-1.0 + line / 2, high=1.0 - line / 2)
    for y, (_value, code, color) in zip(heights, ends, strict=True):
        ax.text(model.times[-1] + 0.3, y, code, va="center", fontsize=8, color=color, gid=f"{code} label")
    for value, code in ((-1.0, poles[0]), (1.0, poles[1])):
        ax.axhline(value, color="0.3", lw=1.0, ls="--")
        ax.text(start, value, f" {code} pole", va="top" if value < 0 else "bottom", fontsize=8, gid=f"{code} label")
    ax.axhline(0.0, color="0.8", lw=0.8)
    ax.set_xlim(start, end + 2.0)  # room for the labels at the right end
    ax.set_ylim(-1.1, 1.1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("alignment (-1 China, +1 US)")
    ax.set_title(f"Alignment of every actor ({run_label(model)})", fontsize=10)
    return fig


def gap_figure(model: DashboardModel, reference: np.ndarray | None = None) -> Figure:
    """Japan's W1..W5 and China-wants gap up to the current turn; ``reference``: a full-run gap to compare."""
    fig, ax = _figure(bottom=0.27)  # room for the legend under the axes, where it hides no line
    start, end = model.time_span
    if reference is not None:
        ref_times = np.linspace(start, end, len(reference))  # one value per quarter of the run
        ax.plot(ref_times, reference, color="0.55", lw=2.0, ls="--", label="gap, baseline (calibrated point)")
    cmap = colormaps["tab10"]
    marker = "o" if len(model.times) == 1 else None
    for k, column in enumerate(W_COLUMNS):
        values = [row[column] for row in model.outcomes]
        ax.plot(model.times, values, color=cmap(k), lw=1.0, alpha=0.8, marker=marker, ms=2, label=short_label(column))
    gap = [row[GAP] for row in model.outcomes]
    ax.plot(model.times, gap, color="black", lw=2.6, marker=marker, ms=4, label="China-wants gap")
    ax.set_xlim(start, end + 0.25)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("0 = as Beijing wants, 1 = its opposite")
    ax.set_title(f"Japan's China-wants gap {gap[-1]:.3f} ({run_label(model)})", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=7.5, frameon=False)
    return fig


def scenario_driver_scales(scenario_name: str) -> dict[str, float]:
    """Every driver's scale in ``scenario_name`` without other settings: what its sliders show once chosen.

    0 for China's coercion under ``no_china_coercion``, the default (1) for a driver the scenario
    leaves alone.
    """
    params = compose_params((f"scenario={scenario_name}",))
    return {name: round(params.drivers.knob(name).scale, SLIDER_DECIMALS) for name in driver_names()}


def slider_settings() -> dict[str, Any]:
    """The page's inputs, in Mesa's ``model_params`` form: one per keyword of :class:`DashboardModel`."""
    settings: dict[str, Any] = {
        "scenario_name": {"type": "Select", "value": DEFAULT_SCENARIO, "values": scenario_names(), "label": "Scenario"},
        "seed": {"type": "InputText", "value": str(JobOptions.seed), "label": "Seed (press Enter)"},
    }
    for name in driver_names():
        settings[name] = {
            "type": "SliderFloat",
            "value": default_value(f"drivers.{name}.scale"),
            "min": 0.0,
            "max": 2.0,
            "step": 0.05,
            "label": registry.spec(name).label,
        }
    for name, (key, label, maximum, step) in KEY_PARAMETERS.items():
        settings[name] = {
            "type": "SliderFloat",
            "value": default_value(key),
            "min": 0.0,
            "max": maximum,
            "step": step,
            "label": label,
        }
    return settings


class PageSettings:
    """The settings of one browser session: one ``solara.Reactive`` per input of :func:`slider_settings`.

    Mesa's inputs are bound to these values (a slider shows and sets its value), so the page can
    move a slider too: choosing a scenario sets every driver slider to the scenario's scale at
    once (:meth:`choose_scenario`), before *Reset*. The model of the page is built from them
    (:class:`PageModel`).
    """

    def __init__(self) -> None:
        self.inputs = slider_settings()
        self.values: dict[str, solara.Reactive[Any]] = {
            name: solara.Reactive(options["value"]) for name, options in self.inputs.items()
        }

    def current(self) -> dict[str, Any]:
        """Input name -> its current value (the keywords of :class:`DashboardModel`)."""
        return {name: value.value for name, value in self.values.items()}

    def choose_scenario(self, scenario_name: str) -> None:
        """Set the driver sliders to ``scenario_name``'s scales (the page calls it when the scenario changes)."""
        for name, scale in scenario_driver_scales(scenario_name).items():
            self.values[name].value = scale

    def model_params(self) -> dict[str, Any]:
        """SolaraViz's ``model_params``: the inputs bound to these values, and the settings themselves."""
        inputs = {name: {**options, "value": self.values[name]} for name, options in self.inputs.items()}
        return {**inputs, "settings": self}


class PageModel(DashboardModel):
    """The page's model: a :class:`DashboardModel` of the page's current settings; a bad seed is reported.

    Mesa's *Reset* calls the model's class with its own record of the inputs (which misses a
    slider that the page, not the user, moved) and a Mesa ``Scenario`` object (Mesa's parameter
    sets, not this project's scenarios, which are ``scenario_name``): both are ignored; the page's
    settings are the one source.
    """

    def __init__(self, settings: PageSettings, **_passed_by_mesa: Any) -> None:
        super().__init__(lenient_seed=True, **settings.current())


# Page components: SolaraViz calls each with the model and re-renders them after every step.
# Mesa wraps them in a new component type at every render of its view, so hooks such as
# solara.use_memo lose their state (a slider move would redraw both figures): the PNGs are
# cached per model and turn instead.
_IMAGES: weakref.WeakKeyDictionary[DashboardModel, dict[str, tuple[int, bytes]]] = weakref.WeakKeyDictionary()


def plot_png(model: DashboardModel, kind: str, draw: Callable[[], Figure]) -> bytes:
    """The PNG of figure ``kind`` at the model's current turn, drawn once per turn."""
    images = _IMAGES.setdefault(model, {})
    if kind not in images or images[kind][0] != model.turn:
        images[kind] = (model.turn, _png(draw()))
    return images[kind][1]


def alignment_plot(model: DashboardModel) -> solara.Element:
    """The alignment plot of the page."""
    image = plot_png(model, "alignment", lambda: alignment_figure(model))
    return solara.Image(image, format="png", width="100%", classes=["sim-plot", "sim-plot-alignment"])


def gap_plot(model: DashboardModel) -> solara.Element:
    """The plot of Japan's gap and W1..W5, with the baseline's gap under a counterfactual."""

    def draw() -> Figure:
        return gap_figure(model, None if model.is_reference else reference_gap(model.seed))

    image = plot_png(model, "gap", draw)
    return solara.Image(image, format="png", width="100%", classes=["sim-plot", "sim-plot-gap"])


def settings_rows(model: DashboardModel) -> list[tuple[str, str, str]]:
    """(label, config key, value) of every page setting, as ``model``'s run uses it."""
    fixed = scenario_driver_settings(model.params.scenario.name)
    rows = []
    for name in driver_names():
        knob = model.params.drivers.knob(name)
        value = f"{knob.scale:g}" + (f" from {knob.from_year}" if knob.from_year else "")
        rows.append(
            (registry.spec(name).label, f"drivers.{name}.scale", value + (" (scenario)" if name in fixed else ""))
        )
    for key, label, _maximum, _step in KEY_PARAMETERS.values():
        rows.append((label, key, f"{value_of(model.params, key):g}"))
    return rows


def run_status(model: DashboardModel) -> solara.Element:
    """Where the run stands, the settings it uses, and the command that reproduces it."""
    # Plain HTML rather than solara.Markdown: Markdown loads mermaid and katex from the public
    # CDN on every page, which an offline machine cannot reach.
    t = model.turn
    scenario = model.params.scenario
    above = [f"<span style='color: #c62828'>Error: {escape(error)}</span>" for error in model.setting_errors]
    above.append(
        f"<b>{model.inputs.year[t]}Q{model.inputs.quarter[t]}</b> (turn {t} of {model.n_turns - 1}) · "
        f"scenario <b>{escape(scenario.name)}</b> · seed {model.seed} · "
        f"Japan's China-wants gap <b>{model.outcomes[-1][GAP]:.3f}</b>"
    )
    if scenario.description:
        above.append(f"<i>{escape(scenario.description)}</i>")
    cells = "".join(
        f"<tr><td>{escape(label)}</td><td><code>{key}</code></td><td>{value}</td></tr>"
        for label, key, value in settings_rows(model)
    )
    table = f"<table class='sim-settings'><tr><th>setting</th><th>config key</th><th>value</th></tr>{cells}</table>"
    below = []
    if model.ignored_drivers:
        knobs = ", ".join(f"<code>drivers.{name}.scale</code>" for name in model.ignored_drivers)
        below.append(f"The scenario sets {knobs} itself: the slider is not used.")
    below.append(f"Changed settings apply on <b>Reset</b>. This run: <code>{escape(model.command)}</code>")
    body = "".join(f"<p>{line}</p>" for line in above) + table + "".join(f"<p>{line}</p>" for line in below)
    return solara.HTML(tag="div", unsafe_innerHTML=body, classes=["sim-status"], style="padding: 8px; font-size: 13px")


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@solara.component
def Page() -> None:
    """The dashboard: one model per browser session, Mesa's controls, the two plots and the status."""
    # use_memo: every browser session gets its own settings and model (module-level ones would be shared).
    settings = solara.use_memo(PageSettings, [])
    model = solara.use_memo(lambda: PageModel(settings), [])
    scenario = settings.values["scenario_name"]
    solara.use_effect(lambda: scenario.subscribe(settings.choose_scenario), [])  # returns its unsubscribe
    SolaraViz(
        model,
        components=[alignment_plot, gap_plot, run_status],
        model_params=settings.model_params(),
        name="East Asian alignment: does coercion drive Japan away?",
    )

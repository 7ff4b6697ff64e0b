"""Every parameter of the model: name, unit, range, meaning and source, and their validation.

This module is the one source of parameter names and defaults. Each field carries metadata:

``unit``
    the unit of the value (``1`` for dimensionless quantities);
``range``
    the closed interval of allowed values (``None`` for an open end);
``meaning``
    what the parameter does, in one sentence;
``source``
    where its value comes from: a claim id from CLAIMS.md (``C0``, ``W1`` ...), a citation, or
    ``assumption`` for a modelling choice that calibration (issue 5) is meant to discipline.

The dataclasses are frozen: a run's parameters cannot change after validation. They are built
from plain mappings (a composed Hydra config) by :func:`params_from_mapping`, which rejects
unknown keys, wrong types and out-of-range values with an error naming the key, the value and
what is allowed. Validation happens here, at the boundary, never inside the step loop.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sim import drivers as registry

ISO3_LENGTH = 3
MODES = ("replay", "policy")
OPTIONAL_ROLES = ("provocateur", "belligerent")  # roles an actor set may leave vacant ('')
EVENT_KINDS = ("intent_shock", "coercion_campaign", "claims_ruling", "leadership")
# Kinds of recorded commitment between two states (sim/data/commitments.csv; Leeds et al. 2002, ATOP)
COMMITMENT_KINDS = ("mutual_defence", "consultation", "declared_alignment")
ALIGNMENT_RULES = ("balance_of_threat", "landscape", "balance_of_power")
SIZE_BASES = ("capability", "gdp")


def p(
    default: Any,
    *,
    unit: str,
    bounds: tuple[float | None, float | None],
    meaning: str,
    source: str,
    allowed: Callable[[RunParams], str] | None = None,
) -> Any:
    """Declare a numeric parameter with its metadata (unit, allowed closed range, meaning, source).

    ``allowed``, for a value checked against the run's period, gives the allowed values for a
    run's period: the error message of the check and ``--help`` both show it.
    """
    metadata = {"unit": unit, "range": bounds, "meaning": meaning, "source": source}
    return field(default=default, metadata=metadata if allowed is None else {**metadata, "allowed": allowed})


def choice(default: str, options: tuple[str, ...], meaning: str) -> Any:
    """Declare a string parameter restricted to ``options``."""
    return field(default=default, metadata={"choices": options, "meaning": meaning, "unit": "-"})


def listing(default: tuple[Any, ...], meaning: str) -> Any:
    """Declare a sequence-valued parameter, kept as a tuple so that validated parameters cannot change."""
    return field(default=tuple(default), metadata={"meaning": meaning, "unit": "-"})


class Checked:
    """Mixin: on construction, check every field against its declared range or choices."""

    config_key: ClassVar[str] = ""

    def __post_init__(self) -> None:
        check_fields(self, self.config_key)


# --------------------------------------------------------------------------------------------
# Run, actors, drivers, events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunParams:
    """The simulated period and the mode that drives the exogenous series."""

    start_year: int = p(
        2010, unit="year", bounds=(1990, 2100), meaning="First simulated year (turn 0 is its Q1).", source="DESIGN.md"
    )
    end_year: int = p(
        2030,
        unit="year",
        bounds=(1990, 2100),
        meaning="Last simulated year (the run ends with its Q4).",
        source="DESIGN.md",
    )
    mode: str = choice(
        "replay",
        MODES,
        "replay: drivers follow the shipped data series to their last year, then the policy; "
        "policy: drivers follow endogenous policies from the start (Russia's war keeps its dated start).",
    )
    spinup_quarters: int = p(
        400,
        unit="quarters",
        bounds=(0, 5000),
        meaning="Most noise-free quarters used to bring perceptions and stances to their start-year equilibrium.",
        source="assumption (ODD section 5)",
    )
    spinup_tolerance: float = p(
        1e-10,
        unit="1",
        bounds=(0.0, 0.1),
        meaning="The spin-up stops once no perception or stance moves by more than this in a quarter.",
        source="assumption (ODD section 5)",
    )

    def __post_init__(self) -> None:
        check_fields(self, "run")
        if self.end_year < self.start_year:
            raise ValueError(
                f"run.end_year={self.end_year} is before run.start_year={self.start_year}; "
                "allowed: end_year >= start_year"
            )

    @property
    def n_turns(self) -> int:
        """Number of quarterly turns in the run."""
        return 4 * (self.end_year - self.start_year + 1)


@dataclass(frozen=True)
class ActorParams:
    """Which states are simulated, their roles, and the file their attributes come from."""

    name: str = field(default="east_asia", metadata={"meaning": "Name of the actor set.", "unit": "-"})
    codes: tuple[str, ...] = listing(
        ("CHN", "JPN", "USA", "RUS", "PRK", "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"),
        "ISO-3 codes of the simulated states; each must have a row in the attribute file.",
    )
    attributes_file: str = field(
        default="actors.csv",
        metadata={"meaning": "Attribute table (in sim/data/ unless an absolute path).", "unit": "-"},
    )
    china_pole: str = field(default="CHN", metadata={"meaning": "The pole at alignment -1.", "unit": "-"})
    us_pole: str = field(default="USA", metadata={"meaning": "The pole at alignment +1.", "unit": "-"})
    focal: str = field(default="JPN", metadata={"meaning": "The state whose W1..W5 are reported.", "unit": "-"})
    provocateur: str = field(
        default="PRK", metadata={"meaning": "The state that tests missiles ('' for none).", "unit": "-"}
    )
    belligerent: str = field(
        default="RUS", metadata={"meaning": "The state that wages the war ('' for none).", "unit": "-"}
    )
    region: tuple[str, ...] = listing(
        ("BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"),
        "Southeast Asian states whose means are reported and whose trust defines W2.",
    )
    engagers: tuple[str, ...] = listing(
        ("CHN", "USA", "JPN"),
        "States that engage others (trade, aid, reassurance) in proportion to trade ties.",
    )
    commitment_kinds: tuple[str, ...] = listing(
        ("mutual_defence",),
        "Kinds of recorded commitment (commitments.csv) that count in eqs. 4a and 6: mutual_defence, "
        "consultation, declared_alignment.",
    )

    def __post_init__(self) -> None:
        for code in self.codes:
            if not (isinstance(code, str) and len(code) == ISO3_LENGTH and code.isupper()):
                raise ValueError(f"actors.codes contains {code!r}; allowed: upper-case ISO-3 codes")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"actors.codes={self.codes} has duplicates; each code may appear once")
        for role in ("china_pole", "us_pole", "focal", "provocateur", "belligerent"):
            code = getattr(self, role)
            optional = role in OPTIONAL_ROLES
            if code not in self.codes and not (optional and code == ""):
                allowed = f"{self.codes} or '' (no {role})" if optional else f"{self.codes}"
                raise ValueError(f"actors.{role}={code!r} is not among actors.codes; allowed: {allowed}")
        for role in OPTIONAL_ROLES:
            code = getattr(self, role)
            if code in (self.china_pole, self.us_pole):
                raise ValueError(
                    f"actors.{role}={code!r} is a pole: a pole cannot take another actor's role; allowed: a state "
                    f"other than {self.china_pole} and {self.us_pole}, or '' (no {role})"
                )
        for kind in self.commitment_kinds:
            if kind not in COMMITMENT_KINDS:
                raise ValueError(f"actors.commitment_kinds contains {kind!r}; allowed: {COMMITMENT_KINDS}")
        for key in ("region", "engagers"):
            for code in getattr(self, key):
                if code not in self.codes:
                    raise ValueError(f"actors.{key} contains {code!r}, not among actors.codes; allowed: {self.codes}")
        if self.china_pole == self.us_pole:
            raise ValueError("actors.china_pole and actors.us_pole must differ")
        if self.focal in (self.china_pole, self.us_pole):
            raise ValueError(
                f"actors.focal={self.focal!r} is a pole; allowed: a state other than "
                f"{self.china_pole} and {self.us_pole}"
            )


@dataclass(frozen=True)
class DriverKnob:
    """The counterfactual knob of one driver (1 = as history or policy gives it).

    From ``from_year`` on the driver's level is ``scale * level + (1 - scale) * reference``,
    where the reference is 0 (``absent``) or the driver's level in ``freeze_year``
    (``frozen``: "what if it had not escalated"). Before ``from_year`` the driver is as history.
    """

    scale: float = p(
        1.0,
        unit="1",
        bounds=(0.0, 10.0),
        meaning="Weight of the driver's level against its counterfactual reference from from_year on.",
        source="C0",
    )
    from_year: int = p(
        0,
        unit="year",
        bounds=(0, 2100),
        meaning="First year the scale applies; 0 means the run's start year. Before it the driver is at scale 1.",
        source="C0",
        allowed=lambda run: f"0 (start) or {run.start_year}..{run.end_year}",
    )
    semantics: str = choice(
        "absent",
        registry.SEMANTICS,
        "Counterfactual reference: absent (0) or frozen (the driver's level in freeze_year).",
    )
    freeze_year: int = p(
        2010,
        unit="year",
        bounds=(1990, 2100),
        meaning="Year whose level a frozen driver keeps (used with semantics=frozen).",
        source="assumption (the start of the record)",
    )


class DriverParams(Mapping[str, DriverKnob]):
    """The knobs of every registered driver (``sim/drivers``), by name, immutable.

    Built with each driver's own defaults (its default semantics and freeze year) for the
    drivers the mapping does not name. ``drivers.<name>`` attribute access reads a knob.
    """

    def __init__(self, knobs: Mapping[str, DriverKnob] | None = None) -> None:
        given = dict(knobs or {})
        unknown = sorted(set(given) - set(registry.names()))
        if unknown:
            raise KeyError(f"unknown driver(s) {unknown} in drivers; allowed: {list(registry.names())}")
        defaults = {
            s.name: DriverKnob(semantics=s.default_semantics, freeze_year=s.freeze_year) for s in registry.specs()
        }
        self._knobs = {name: given.get(name, defaults[name]) for name in registry.names()}
        for name, knob in self._knobs.items():
            check_fields(knob, f"drivers.{name}")
            allowed = registry.spec(name).semantics
            if knob.semantics not in allowed:
                raise ValueError(f"drivers.{name}.semantics={knob.semantics!r}; allowed: {list(allowed)}")

    def __getitem__(self, name: str) -> DriverKnob:
        return self._knobs[name]

    def __iter__(self) -> typing.Iterator[str]:
        return iter(self._knobs)

    def __len__(self) -> int:
        return len(self._knobs)

    def __getattr__(self, name: str) -> DriverKnob:
        knobs = self.__dict__.get("_knobs", {})
        if name in knobs:
            return knobs[name]
        raise AttributeError(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DriverParams) and self._knobs == other._knobs

    def __hash__(self) -> int:
        return hash(tuple(self._knobs.items()))

    def __repr__(self) -> str:
        return f"DriverParams({self._knobs!r})"

    def knob(self, name: str) -> DriverKnob:
        """The knob of driver ``name``; KeyError naming the allowed drivers otherwise."""
        if name not in self._knobs:
            raise KeyError(f"unknown driver {name!r}; allowed: {list(self._knobs)}")
        return self._knobs[name]

    def with_knobs(self, knobs: Mapping[str, DriverKnob]) -> DriverParams:
        """A copy with some knobs replaced (validated)."""
        return DriverParams({**self._knobs, **knobs})

    def to_mapping(self) -> dict[str, dict[str, Any]]:
        """The plain-dict form, ``{name: {scale, from_year, semantics, freeze_year}}``."""
        return {name: dataclasses.asdict(knob) for name, knob in self._knobs.items()}

    @classmethod
    def from_mapping(cls, mapping: Any, prefix: str = "drivers") -> DriverParams:
        """Validated knobs from ``{name: {key: value}}``; keys not given take the driver's defaults."""
        if not isinstance(mapping, Mapping):
            raise ValueError(f"{prefix}={mapping!r}; allowed: a mapping with keys {list(registry.names())}")
        unknown = sorted(set(mapping) - set(registry.names()))
        if unknown:
            raise KeyError(f"unknown driver(s) {unknown} in {prefix}; allowed: {list(registry.names())}")
        knobs = {}
        for name, values in mapping.items():
            s = registry.spec(name)
            base = {"semantics": s.default_semantics, "freeze_year": s.freeze_year}
            if not isinstance(values, Mapping):
                raise ValueError(f"{prefix}.{name}={values!r}; allowed: a mapping with keys {field_names(DriverKnob)}")
            knobs[name] = _build(DriverKnob, {**base, **values}, f"{prefix}.{name}")
        return cls(knobs)


@dataclass(frozen=True)
class Event:
    """A dated event of the scenario timeline.

    ``kind`` is one of ``intent_shock`` (a one-quarter burst of hostile evidence from ``actor``
    against ``target``, applied and logged as extra coercion), ``coercion_campaign`` (extra
    coercion by ``actor`` against ``targets`` from ``year`` to ``until_year``) and
    ``claims_ruling`` (a ruling against ``target``'s claims that raises every observer's claims
    resistance toward it from then on) and ``leadership`` (a change of government in ``actor``
    that shifts its baseline alignment logit by ``size`` times ``params.alignment.leadership_gain``
    from ``year`` to the end of ``until_year``, or to the end of the run: negative toward China).
    ``driver`` names the knob that scales the event (empty for events no knob controls).
    """

    kind: str = "intent_shock"
    year: int = 2010
    quarter: int = 1
    until_year: int = 0
    actor: str = ""
    target: str = ""
    targets: tuple[str, ...] = ()
    size: float = 0.0
    driver: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        where = f"scenario event {self.label or self.kind!r}"
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"{where}: kind={self.kind!r}; allowed: {list(EVENT_KINDS)}")
        if not 1 <= self.quarter <= 4:
            raise ValueError(f"{where}: quarter={self.quarter}; allowed: 1..4")
        if self.size < 0 and self.kind != "leadership":
            raise ValueError(f"{where}: size={self.size}; allowed: >= 0 (negative only for a leadership event)")
        if self.driver and self.driver not in registry.names():
            raise ValueError(f"{where}: driver={self.driver!r}; allowed: {list(registry.names())} or ''")
        if self.until_year and self.until_year < self.year:
            raise ValueError(f"{where}: until_year={self.until_year} is before year={self.year}")
        for code in [self.actor, self.target, *self.targets]:
            if code and not (len(code) == ISO3_LENGTH and code.isupper()):
                raise ValueError(f"{where}: actor code {code!r}; allowed: upper-case ISO-3 codes")
        if self.kind != "claims_ruling" and not self.actor:
            raise ValueError(f"{where}: kind {self.kind!r} needs an actor")
        if self.kind == "leadership" and (self.target or self.targets or self.driver):
            raise ValueError(f"{where}: a leadership event has an actor only; allowed: no target(s), no driver")
        if self.kind != "leadership" and not (self.target or self.targets):
            raise ValueError(f"{where}: needs a target or targets")
        if self.actor and self.actor in (self.target, *self.targets):
            raise ValueError(f"{where}: actor {self.actor!r} targets itself; allowed: targets other than the actor")


def check_folder_name(key: str, value: str) -> None:
    """Refuse a name that becomes a folder if it could leave its parent folder.

    Raises
    ------
    ValueError
        For an empty name, a path separator, ``..``, a leading ``.`` or a control character.
    """
    if (
        not value
        or value.startswith(".")
        or ".." in value
        or any(c in value for c in ("/", "\\", "\x00"))
        or not value.isprintable()
    ):
        raise ValueError(
            f"{key}={value!r} names a folder; allowed: a non-empty name without path separators or '..', "
            "not starting with '.'"
        )


@dataclass(frozen=True)
class ScenarioParams:
    """A named scenario: its description and its timeline of dated events."""

    name: str = field(default="baseline", metadata={"meaning": "Scenario name (names its runs' folder).", "unit": "-"})
    description: str = field(default="", metadata={"meaning": "What the scenario is for.", "unit": "-"})
    events: tuple[Event, ...] = field(default=(), metadata={"meaning": "Dated events.", "unit": "-"})

    def __post_init__(self) -> None:
        check_folder_name("scenario.name", self.name)


# --------------------------------------------------------------------------------------------
# Model parameters (the symbols of docs/ODD.md)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerceptionParams(Checked):
    """Intent learning and threat assessment (balance of threat, Walt 1987)."""

    config_key: ClassVar[str] = "params.perception"

    intent_decay_per_quarter: float = p(
        0.08,
        unit="1/quarter",
        bounds=(0.0, 1.0),
        meaning="delta_I: share of perceived hostile intent forgotten per quarter without new evidence.",
        source="assumption; half-life ~2 years (Jervis 1976 on the persistence of images)",
    )
    intent_gain: float = p(
        0.5,
        unit="1/evidence",
        bounds=(0.0, 100.0),
        meaning="eta: how fast hostile evidence raises perceived intent, a = 1 - exp(-eta E).",
        source="assumption (calibrated in issue 5)",
    )
    reassurance_gain: float = p(
        0.6,
        unit="1/evidence",
        bounds=(0.0, 100.0),
        meaning="eta_r: how fast engagement lowers perceived intent, b = 1 - exp(-eta_r G).",
        source="assumption",
    )
    neighbour_spillover: float = p(
        0.35,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="sigma_n: weight of an action against a neighbour (at zero distance) as evidence to the observer.",
        source="Walt 1987 (proximity); assumption for the value",
    )
    partner_spillover: float = p(
        0.4,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="sigma_p: weight of an action against an aligned partner as evidence to the observer.",
        source="assumption (reputation spill-over; Crescenzi 2007)",
    )
    bloc_spillover: float = p(
        0.2,
        unit="1",
        bounds=(0.0, 1.0),
        meaning=(
            "sigma_b: share of the evidence from force (wars, missile tests) by j's committed partners attributed to j."
        ),
        source="C0: Russia's war raises the perceived chance of a Chinese war (CLAIMS.md)",
    )
    bystander_weight: float = p(
        0.3,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="eps: weight of coercion of others as evidence to a state with no dispute with the coercer (eq. 4b).",
        source="assumption (calibrated); Cambodia and Laos, non-claimants, feel China least (PATTERNS.md P5)",
    )
    commitment_trust: float = p(
        0.8,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="gamma: share of a committed partner's conduct read as no evidence of hostile intent (eq. 4a).",
        source="the treaties of commitments.csv; Snyder 1984 (allies still fear each other): gamma < 1; assumption",
    )
    hostile_reading_power: float = p(
        2.0,
        unit="1",
        bounds=(0.0, 10.0),
        meaning="k_h: how sharply partners discount each other's acts, h_ij = (|x_i - x_j| / 2) ** k_h.",
        source="Walt 1987 (perceived intentions); assumption for the value",
    )
    affinity_power: float = p(
        8.0,
        unit="1",
        bounds=(1.0, 20.0),
        meaning="k_a: sharpness of alignment affinity (1 - |x_i - x_j| / 2) ** k_a.",
        source="assumption",
    )
    spillover_distance_km: float = p(
        2500.0,
        unit="km",
        bounds=(100.0, 20000.0),
        meaning="d_s: distance over which the neighbour spill-over halves ~ln2 d_s.",
        source="assumption (Boulding 1962 loss-of-strength gradient)",
    )
    threat_distance_km: float = p(
        2000.0,
        unit="km",
        bounds=(100.0, 20000.0),
        meaning="d_0: e-folding distance of threat beyond an actor's power-projection reach.",
        source="Boulding 1962; Walt 1987",
    )
    nuclear_offence_factor: float = p(
        2.0,
        unit="1",
        bounds=(0.0, 10.0),
        meaning="omega: extra offensive weight of a nuclear-armed actor's capability, o_j = 1 + omega * nuclear_j.",
        source="Walt 1987 (offensive power)",
    )
    threat_scale: float = p(
        3.0,
        unit="1",
        bounds=(0.0, 100.0),
        meaning="theta: threat saturation, T = 1 - exp(-theta I P prox).",
        source="assumption",
    )
    perception_noise_sd: float = p(
        0.10,
        unit="1 (log scale)",
        bounds=(0.0, 2.0),
        meaning="sigma_e: log-normal noise on the evidence an observer receives each quarter.",
        source="assumption",
    )


@dataclass(frozen=True)
class HostilityParams(Checked):
    """How much each kind of action counts as evidence of hostile intent (per unit intensity)."""

    config_key: ClassVar[str] = "params.hostility"

    coercion: float = p(
        1.0,
        unit="evidence/intensity",
        bounds=(0.0, 10.0),
        meaning="h_co: coercion against the observer.",
        source="C0; Walt 1987",
    )
    basing: float = p(
        0.5,
        unit="evidence/intensity",
        bounds=(0.0, 10.0),
        meaning="h_ba: a US base accepted by a host, as seen by the China pole.",
        source="DESIGN.md (basing)",
    )
    buildup: float = p(
        2.0,
        unit="evidence/(1/year)",
        bounds=(0.0, 50.0),
        meaning="h_bu: real spending growth above normal, by power relative to the observer; partners discounted.",
        source="CLAIMS.md (China's build-up); Walt 1987",
    )
    criticism: float = p(
        0.3,
        unit="evidence/intensity",
        bounds=(0.0, 10.0),
        meaning="h_cr: public criticism of the observer.",
        source="assumption",
    )
    provocation: float = p(
        0.6,
        unit="evidence/intensity",
        bounds=(0.0, 10.0),
        meaning="h_pr: missile tests (per 20 missiles a year), seen by actors in range; partners discounted.",
        source="C0 (North Korea)",
    )
    war: float = p(
        0.8,
        unit="evidence/intensity",
        bounds=(0.0, 10.0),
        meaning="h_wa: a war of conquest against a third party, seen by actors in range; partners discounted.",
        source="C0 (Russia's war)",
    )
    derisking: float = p(
        0.3,
        unit="evidence/intensity",
        bounds=(0.0, 10.0),
        meaning="h_de: export controls against the observer.",
        source="W5",
    )


@dataclass(frozen=True)
class AlignmentParams(Checked):
    """Alignment response: balancing, bandwagoning, economic hedging, lock-in (hysteresis)."""

    config_key: ClassVar[str] = "params.alignment"

    adjustment_per_quarter: float = p(
        0.06,
        unit="1/quarter",
        bounds=(0.0, 1.0),
        meaning="rho_x: share of the gap to the target alignment closed per quarter.",
        source="assumption",
    )
    balancing_gain: float = p(
        1.5,
        unit="1/threat",
        bounds=(0.0, 20.0),
        meaning="beta_b: pull of the bloc-threat balance on the target alignment (Walt 1987 balancing).",
        source="Walt 1987",
    )
    economic_gain: float = p(
        1.0,
        unit="1",
        bounds=(0.0, 20.0),
        meaning="beta_e: pull of the economic balance e = U - C (eq. 18) on the target security alignment.",
        source="Schweller 1994 (bandwagoning for profit); assumption for the value",
    )
    economic_weight: float = p(
        0.25,
        unit="1",
        bounds=(0.0, 0.5),
        meaning="omega: weight of the economic alignment y in the overall alignment a = (1 - omega) x + omega y.",
        source="Kuik 2008 (hedging: security and economic alignments apart); assumption for the value (calibrated)",
    )
    lockin_gain: float = p(
        1.0,
        unit="1",
        bounds=(0.0, 20.0),
        meaning="beta_L: pull of alliance lock-in toward the US pole.",
        source="assumption",
    )
    lockin_stickiness: float = p(
        0.7,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="phi_L: how much lock-in slows alignment change, rate * (1 - phi_L L).",
        source="Pierson 2004 (increasing returns); DESIGN.md",
    )
    bandwagon_threshold: float = p(
        0.55,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="theta_bw: vulnerability above which a weak, exposed state bandwagons instead of balancing.",
        source="Walt 1987 (bandwagoning by weak states); assumption for the value",
    )
    bandwagon_width: float = p(
        0.05,
        unit="1",
        bounds=(0.001, 1.0),
        meaning="w_bw: width of the logistic switch between balancing and bandwagoning.",
        source="assumption",
    )
    derisking_trade_discount: float = p(
        0.5,
        unit="1",
        bounds=(0.0, 1.0),
        meaning="phi_d: share of China's trade pull removed by full de-risking.",
        source="CLAIMS.md (economics and politics no longer kept apart)",
    )
    leadership_gain: float = p(
        0.5,
        unit="logit per event size",
        bounds=(0.0, 5.0),
        meaning="lambda: shift of a state's baseline alignment logit per unit size of a leadership event.",
        source="assumption (calibrated); dated events: Duterte 2016, Thailand's 2014 coup (configs/scenario)",
    )
    domestic_trend_gain: float = p(
        1.0,
        unit="1/trend",
        bounds=(0.0, 20.0),
        meaning="beta_n: pull of Japan's domestic normalisation index on its target alignment.",
        source="assumption",
    )


@dataclass(frozen=True)
class LandscapeParams(Checked):
    """The landscape rule (Axelrod and Bennett 1993): states move to lower their frustration."""

    config_key: ClassVar[str] = "params.landscape"

    gain: float = p(
        1.0,
        unit="1/(size share x propensity)",
        bounds=(0.0, 20.0),
        meaning="beta_A: pull of the frustration difference between the two sides on the target alignment.",
        source="Axelrod and Bennett 1993 (the rule); assumption for the value (no data: calibrate)",
    )
    size_basis: str = choice(
        "capability",
        SIZE_BASES,
        "What measures an actor's size z_j (its weight in others' frustration): the military capability stock "
        "(power, as in Axelrod and Bennett) or GDP.",
    )
    trust_weight: float = p(
        1.0,
        unit="propensity/trust",
        bounds=(0.0, 20.0),
        meaning="w_tau: propensity to be together per unit of mutual trust above neutral, (2 tau - 1).",
        source="Axelrod and Bennett 1993 (propensity from friendship); assumption for the value",
    )
    threat_weight: float = p(
        1.0,
        unit="propensity/threat",
        bounds=(0.0, 20.0),
        meaning="w_T: propensity to be apart per unit of mutual threat.",
        source="Axelrod and Bennett 1993 (propensity from conflict); assumption for the value",
    )
    dispute_weight: float = p(
        1.0,
        unit="propensity/dispute",
        bounds=(0.0, 20.0),
        meaning="w_d: propensity to be together per unit of a dispute shared with the same third state.",
        source="Axelrod and Bennett 1993 (common enemies); assumption for the value",
    )


@dataclass(frozen=True)
class BalanceOfPowerParams(Checked):
    """The balance-of-power rule (Waltz 1979): states lean against the side with more capability."""

    config_key: ClassVar[str] = "params.balance_of_power"

    gain: float = p(
        1.0,
        unit="1/capability share",
        bounds=(0.0, 20.0),
        meaning="beta_P: pull toward the weaker side per unit of the capability balance of the others.",
        source="Waltz 1979 (the rule); assumption for the value (no data: calibrate)",
    )


@dataclass(frozen=True)
class SpendingParams(Checked):
    """Richardson arms dynamics in shares of GDP, with fiscal bounds and political ceilings reset by reviews."""

    config_key: ClassVar[str] = "params.spending"

    adjustment_per_quarter: float = p(
        0.05,
        unit="1/quarter",
        bounds=(0.0, 1.0),
        meaning="rho_s: share of the gap to the target share closed per quarter (Richardson's fatigue a).",
        source="Richardson 1960 (fatigue term); assumption for the value",
    )
    threat_response: float = p(
        0.5,
        unit="% GDP per % GDP",
        bounds=(0.0, 20.0),
        meaning="k_s: rise of the target share per unit of threat-weighted rival share R_i (Richardson's k / a).",
        source="Richardson 1960 (reaction term)",
    )
    fiscal_bound_share_gdp: float = p(
        30.0,
        unit="% GDP",
        bounds=(25.0, 100.0),
        meaning="B: no state's target share exceeds this fiscal bound; must exceed every start share.",
        source="assumption: above North Korea's ~22-25% (SIPRI, sparse), the highest in the data",
    )
    floor_share_gdp: float = p(
        0.1,
        unit="% GDP",
        bounds=(0.001, 0.2),
        meaning="f: no state's target share falls below this floor; must not exceed any start share.",
        source="assumption: below Laos's 0.2% (SIPRI 2010), the lowest in the data",
    )
    review_margin: float = p(
        0.1,
        unit="1",
        bounds=(0.0, 5.0),
        meaning="m: relative excess of the desired share over a ceiling that counts toward a policy review.",
        source="assumption (calibrated); Japan's 2013, 2018, 2022 strategy documents",
    )
    review_quarters: float = p(
        8.0,
        unit="quarters",
        bounds=(1.0, 200.0),
        meaning="L: quarters in a row of excess demand after which a review resets the ceiling in a step.",
        source="assumption (calibrated); Japan's reviews came 4-5 years apart (2013, 2018, 2022)",
    )
    us_target_share_gdp: float = p(
        2.0,
        unit="% GDP",
        bounds=(0.0, 10.0),
        meaning="s_ref: the spending level the US presses its allies toward.",
        source="NATO 2% guideline; CLAIMS.md (Japan toward 2%)",
    )
    us_pressure_response: float = p(
        0.3,
        unit="1",
        bounds=(0.0, 5.0),
        meaning="k_pi: share of an ally's shortfall to s_ref added to its desired spending per unit of pressure.",
        source="assumption",
    )
    domestic_trend_response: float = p(
        0.3,
        unit="% GDP/trend",
        bounds=(0.0, 10.0),
        meaning="k_n: desired extra spending per unit of Japan's normalisation index.",
        source="assumption",
    )
    income_elasticity: float = p(
        0.6,
        unit="1",
        bounds=(0.0, 1.5),
        meaning="eta: income elasticity of the non-threat (base) defence effort; "
        "below 1 its share of GDP falls as GDP grows.",
        source="Davis, Dempster & Wildavsky 1966 (incremental budgets); "
        "Smith 1995 (demand for military expenditure); calibrated",
    )
    normal_growth_per_year: float = p(
        0.0,
        unit="1/year",
        bounds=(-0.5, 0.5),
        meaning="g_0: growth of the defence share of GDP not read as a build-up (0: any growth above GDP's).",
        source="assumption: a build-up is spending growth above the state's own GDP growth",
    )
    capability_depreciation_per_year: float = p(
        0.10,
        unit="1/year",
        bounds=(0.001, 1.0),
        meaning="delta_K: depreciation of the military capital stock.",
        source="assumption (10-year service life)",
    )


@dataclass(frozen=True)
class LockinParams(Checked):
    """Alliance lock-in with the US: bases and joint commands, slow to build and slow to decay."""

    config_key: ClassVar[str] = "params.lockin"

    build_per_quarter: float = p(
        0.05,
        unit="1/quarter",
        bounds=(0.0, 1.0),
        meaning="rho_L: lock-in built per unit of accepted basing per quarter.",
        source="assumption",
    )
    decay_per_quarter: float = p(
        0.005,
        unit="1/quarter",
        bounds=(0.0, 1.0),
        meaning="delta_L: relaxation of lock-in toward its floor (half-life ~35 years).",
        source="Pierson 2004; assumption",
    )
    basing_offer: float = p(
        0.5,
        unit="intensity",
        bounds=(0.0, 5.0),
        meaning="b_U: the US basing offer to each state without pressure.",
        source="assumption",
    )
    acceptance_threshold: float = p(
        0.3,
        unit="threat",
        bounds=(0.0, 5.0),
        meaning="theta_L: China-bloc threat at which a host accepts half of the offer.",
        source="assumption",
    )
    acceptance_width: float = p(
        0.1,
        unit="threat",
        bounds=(0.001, 5.0),
        meaning="w_L: width of the host's logistic acceptance.",
        source="assumption",
    )


@dataclass(frozen=True)
class StanceParams(Checked):
    """Stances of i toward j on W1 (criticism), W3 (claims resistance), W5 (tech denial), and trust (W2)."""

    config_key: ClassVar[str] = "params.stance"

    adjustment_per_quarter: float = p(
        0.10,
        unit="1/quarter",
        bounds=(0.0, 1.0),
        meaning="rho_w: share of the gap to a stance's target closed per quarter.",
        source="assumption",
    )
    action_threshold: float = p(
        0.5,
        unit="1",
        bounds=(0.0, 0.99),
        meaning="theta_a: stance level beyond which criticism and export controls become public acts.",
        source="assumption",
    )
    criticism_intercept: float = p(
        -3.0, unit="logit", bounds=(-20.0, 20.0), meaning="a_c: criticism logit at zero threat.", source="assumption"
    )
    criticism_threat: float = p(
        4.0, unit="logit/threat", bounds=(0.0, 50.0), meaning="b_c: criticism per unit threat.", source="W1"
    )
    criticism_distance: float = p(
        0.5, unit="logit", bounds=(0.0, 50.0), meaning="c_c: criticism per unit alignment distance.", source="W1"
    )
    resistance_intercept: float = p(
        -1.5,
        unit="logit",
        bounds=(-20.0, 20.0),
        meaning="a_r: claims resistance logit at zero threat.",
        source="assumption",
    )
    resistance_threat: float = p(
        3.0, unit="logit/threat", bounds=(0.0, 50.0), meaning="b_r: claims resistance per unit threat.", source="W3"
    )
    resistance_dispute: float = p(
        1.0, unit="logit", bounds=(0.0, 50.0), meaning="c_r: claims resistance of a party to a dispute.", source="W3"
    )
    resistance_ruling: float = p(
        1.0,
        unit="logit/size",
        bounds=(0.0, 50.0),
        meaning="k_r: claims resistance per unit size of a legal ruling.",
        source="W3 (PCA 2016)",
    )
    denial_intercept: float = p(
        -3.0, unit="logit", bounds=(-20.0, 20.0), meaning="a_d: tech denial logit at zero threat.", source="assumption"
    )
    denial_threat: float = p(
        3.0, unit="logit/threat", bounds=(0.0, 50.0), meaning="b_d: tech denial per unit threat.", source="W5"
    )
    denial_pressure: float = p(
        2.0,
        unit="logit/pressure",
        bounds=(0.0, 50.0),
        meaning="c_d: tech denial per unit of US export-control pressure.",
        source="W5",
    )
    trust_intercept: float = p(
        -1.0,
        unit="logit",
        bounds=(-20.0, 20.0),
        meaning="a_t: trust logit at zero threat and full alignment distance.",
        source="assumption",
    )
    trust_threat: float = p(
        4.0, unit="logit/threat", bounds=(0.0, 50.0), meaning="b_t: trust lost per unit threat.", source="W2"
    )
    trust_closeness: float = p(
        2.0, unit="logit", bounds=(0.0, 50.0), meaning="c_t: trust per unit alignment closeness.", source="W2"
    )
    trust_engagement: float = p(
        1.0, unit="logit/intensity", bounds=(0.0, 50.0), meaning="e_t: trust per unit engagement received.", source="W2"
    )
    domestic_trend_gain: float = p(
        0.5,
        unit="logit/trend",
        bounds=(0.0, 20.0),
        meaning="k_nw: shift of Japan's stance logits per unit of its normalisation index.",
        source="assumption",
    )


@dataclass(frozen=True)
class PolicyParams(Checked):
    """Endogenous driver policies (policy mode, and replay mode after the data end)."""

    config_key: ClassVar[str] = "params.policy"

    china_coercion_level: float = p(
        0.6,
        unit="index",
        bounds=(0.0, 5.0),
        meaning="c_pol: China's coercion index under its policy at zero drift (2013-2024 data mean 0.70).",
        source="senkaku_china_gov_vessels.csv, jasdf_scrambles.csv",
    )
    china_spiral_gain: float = p(
        1.5,
        unit="1/alignment",
        bounds=(0.0, 20.0),
        meaning="gamma: extra coercion per unit of a target's alignment drift toward the US since the start.",
        source="CLAIMS.md (the spiral); assumption for the value",
    )
    nk_provocation_level: float = p(
        1.47,
        unit="missiles/20 per year",
        bounds=(0.0, 20.0),
        meaning=(
            "North Korea's provocations under its policy: 29.4 missile launches a year, a nuclear test or "
            "deadly attack counted as 10 (2014-2024 mean without the 2018 pause)."
        ),
        source="nk_missile_launches.csv, nk_provocations_project.csv",
    )
    russia_war_level: float = p(
        1.0,
        unit="index",
        bounds=(0.0, 5.0),
        meaning="Russia's war intensity under its policy once the war has started.",
        source="assumption",
    )
    us_pressure_level: float = p(
        1.0,
        unit="index",
        bounds=(0.0, 5.0),
        meaning="US burden-sharing and export-control pressure under its policy.",
        source="assumption",
    )
    us_techcontrol_baseline: float = p(
        0.2,
        unit="index",
        bounds=(0.0, 5.0),
        meaning="US export-control pressure before the 2022 controls (index).",
        source="assumption",
    )
    japan_trend_per_year: float = p(
        0.05,
        unit="trend/year",
        bounds=(0.0, 1.0),
        meaning="Growth of Japan's domestic normalisation index per year.",
        source="Samuels 2007; Hughes 2015 (a rival explanation)",
    )
    engagement_level: float = p(
        0.5,
        unit="intensity",
        bounds=(0.0, 5.0),
        meaning="g_E: engagement by an engager toward a state that trades only with it.",
        source="assumption",
    )


@dataclass(frozen=True)
class NoiseParams(Checked):
    """Stochastic variation of action intensities."""

    config_key: ClassVar[str] = "params.noise"

    action_noise_sd: float = p(
        0.15,
        unit="1 (log scale)",
        bounds=(0.0, 2.0),
        meaning="sigma_a: log-normal noise on an actor's action intensities per quarter.",
        source="assumption",
    )


@dataclass(frozen=True)
class OutcomeParams:
    """How the five dimensions combine into the China-wants gap."""

    gap_weights: tuple[float, ...] = listing((0.2, 0.2, 0.2, 0.2, 0.2), "Weights of W1..W5 in the gap; they sum to 1.")
    action_log_threshold: float = p(
        0.05,
        unit="intensity",
        bounds=(0.0, 10.0),
        meaning="Actions below this intensity are not written to the action log.",
        source="assumption",
    )

    def __post_init__(self) -> None:
        check_fields(self, "params.outcome")
        weights = self.gap_weights
        if len(weights) != 5 or any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-9:
            raise ValueError(f"params.outcome.gap_weights={weights}; allowed: five non-negative weights summing to 1")


@dataclass(frozen=True)
class ModelParams:
    """All behavioural parameters, grouped by submodel (the symbols of docs/ODD.md)."""

    alignment_rule: str = choice(
        "balance_of_threat",
        ALIGNMENT_RULES,
        "The theory of how states align (sim/rules/): balance of threat (Walt 1987), landscape "
        "(Axelrod and Bennett 1993) or balance of power (Waltz 1979); chosen by the alignment_rule config group.",
    )
    perception: PerceptionParams = field(default_factory=PerceptionParams)
    hostility: HostilityParams = field(default_factory=HostilityParams)
    alignment: AlignmentParams = field(default_factory=AlignmentParams)
    spending: SpendingParams = field(default_factory=SpendingParams)
    lockin: LockinParams = field(default_factory=LockinParams)
    stance: StanceParams = field(default_factory=StanceParams)
    policy: PolicyParams = field(default_factory=PolicyParams)
    noise: NoiseParams = field(default_factory=NoiseParams)
    outcome: OutcomeParams = field(default_factory=OutcomeParams)
    landscape: LandscapeParams = field(default_factory=LandscapeParams)
    balance_of_power: BalanceOfPowerParams = field(default_factory=BalanceOfPowerParams)

    def __post_init__(self) -> None:
        check_fields(self, "params")


@dataclass(frozen=True)
class Params:
    """Everything one run needs besides its seed."""

    run: RunParams = field(default_factory=RunParams)
    actors: ActorParams = field(default_factory=ActorParams)
    drivers: DriverParams = field(default_factory=DriverParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    params: ModelParams = field(default_factory=ModelParams)

    def __post_init__(self) -> None:
        run = self.run
        for name, knob in self.drivers.items():
            year = knob.from_year
            if year != 0 and not run.start_year <= year <= run.end_year:
                allowed = DriverKnob.__dataclass_fields__["from_year"].metadata["allowed"](run)
                raise ValueError(f"drivers.{name}.from_year={year} is outside the run; allowed: {allowed}")
            frozen = knob.semantics == "frozen" and knob.scale != 1.0
            if frozen and not run.start_year <= knob.freeze_year <= run.end_year:
                raise ValueError(
                    f"drivers.{name}.freeze_year={knob.freeze_year} is outside the run; allowed: "
                    f"{run.start_year}..{run.end_year} (a frozen driver keeps a level the run has)"
                )


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def check_fields(obj: Any, prefix: str) -> None:
    """Check every numeric field of ``obj`` against its declared range and every choice field.

    Raises
    ------
    ValueError
        Naming the dotted key, the bad value and the allowed range or options.
    """
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}.{f.name}"
        if "range" in f.metadata:
            lo, hi = f.metadata["range"]
            if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):  # NaN != NaN
                unit = f.metadata["unit"]  # "1": a pure number, which needs no unit in the message
                shown = f" ({unit})" if unit != "1" else ""
                raise ValueError(f"{key}={value!r} is out of range; allowed: [{lo}, {hi}]{shown}")
        if "choices" in f.metadata and value not in f.metadata["choices"]:
            raise ValueError(f"{key}={value!r}; allowed: {list(f.metadata['choices'])}")


def _convert(value: Any, annotation: Any, key: str) -> Any:
    """Convert a plain value to ``annotation`` (a dataclass, list, int, float, str or bool)."""
    origin = typing.get_origin(annotation)
    if annotation is DriverParams:
        return DriverParams.from_mapping(value, key)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise ValueError(f"{key}={value!r}; allowed: a mapping with keys {field_names(annotation)}")
        return _build(annotation, value, key)
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"{key}={value!r}; allowed: a list")
        item_type = typing.get_args(annotation)[0]
        return tuple(_convert(v, item_type, f"{key}[{i}]") for i, v in enumerate(value))
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key}={value!r}; allowed: true or false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key}={value!r}; allowed: an integer")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key}={value!r}; allowed: a number")
        if not math.isfinite(value):  # NaN passes every comparison, so no range would catch it
            raise ValueError(f"{key}={value!r}; allowed: a finite number")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{key}={value!r}; allowed: a string")
        return value
    if isinstance(annotation, types.UnionType):  # pragma: no cover - no unions among the fields today
        raise TypeError(f"{key}: union types are not supported in parameters")
    raise TypeError(f"{key}: unsupported parameter type {annotation!r}")


def field_names(cls: Any) -> list[str]:
    """Names of the fields of a parameter dataclass."""
    return [f.name for f in dataclasses.fields(cls)]


def _build(cls: Any, mapping: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    allowed = field_names(cls)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        where = prefix or "the top level"
        raise KeyError(f"unknown key(s) {unknown} in {where}; allowed: {allowed}")
    kwargs = {
        name: _convert(value, hints[name], f"{prefix}.{name}" if prefix else name) for name, value in mapping.items()
    }
    return cls(**kwargs)


def params_from_mapping(mapping: Mapping[str, Any]) -> Params:
    """Build validated :class:`Params` from a plain mapping (a resolved Hydra config section).

    Keys missing from ``mapping`` take their defaults. Keys beyond the :class:`Params` fields
    are rejected.

    Raises
    ------
    KeyError
        An unknown key, named with the allowed keys.
    ValueError
        A wrong type or an out-of-range value, named with what is allowed.
    """
    params: Params = _build(Params, mapping, "")
    return params


def params_to_mapping(params: Params) -> dict[str, Any]:
    """The plain-dict form of ``params`` (inverse of :func:`params_from_mapping`)."""
    mapping = dataclasses.asdict(params)
    mapping["drivers"] = params.drivers.to_mapping()
    return mapping


def parameter_table() -> list[dict[str, Any]]:
    """One row per numeric model parameter: key, default, unit, range, meaning, source.

    Used to generate the parameter table of docs/ODD.md, so the document and the code agree.
    """
    rows: list[dict[str, Any]] = []

    def walk(cls: Any, prefix: str) -> None:
        for f in dataclasses.fields(cls):
            key = f"{prefix}.{f.name}"
            hint = typing.get_type_hints(cls)[f.name]
            if dataclasses.is_dataclass(hint):
                walk(hint, key)
            elif "range" in f.metadata:
                default = f.default if f.default is not dataclasses.MISSING else None
                rows.append(
                    {
                        "key": key,
                        "default": default,
                        "unit": f.metadata["unit"],
                        "range": f.metadata["range"],
                        "meaning": f.metadata["meaning"],
                        "source": f.metadata["source"],
                    }
                )

    walk(ModelParams, "params")
    walk(DriverKnob, "drivers.<name>")
    return rows


def params_digest(params: Params) -> str:
    """SHA-256 of the canonical JSON form of ``params`` (identifies a parameter set).

    The text is ``json.dumps(params_to_mapping(params), sort_keys=True, default=str)``, put
    together from each top-level section's JSON, which is cached by value: the thousands of
    counterfactuals and parameter draws of an experiment share most of their sections, and
    encoding them again was most of the cost of a run id.
    """
    sections = {f.name: _section_json(f.name, getattr(params, f.name)) for f in dataclasses.fields(params)}
    text = "{" + ", ".join(f"{json.dumps(name)}: {sections[name]}" for name in sorted(sections)) + "}"
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=4096)
def _section_json(name: str, section: Any) -> str:
    """The canonical JSON of one top-level section of :class:`Params` (as in :func:`params_to_mapping`)."""
    mapping = section.to_mapping() if name == "drivers" else dataclasses.asdict(section)
    return json.dumps(mapping, sort_keys=True, default=str)


def with_values(params: Params, values: Mapping[str, Any]) -> Params:
    """``params`` with some values replaced by dotted key (``params.perception.intent_gain``), validated.

    Raises
    ------
    KeyError
        A key that names no parameter.
    ValueError
        A value out of its parameter's range.
    """
    mapping = params_to_mapping(params)
    for key, value in values.items():
        node: Any = mapping
        *path, leaf = key.split(".")
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"{key!r} names no parameter; allowed: dotted keys of sim/params.py")
            node = node[part]
        if not isinstance(node, dict) or leaf not in node:
            raise KeyError(f"{key!r} names no parameter; allowed: dotted keys of sim/params.py")
        node[leaf] = value
    return params_from_mapping(mapping)

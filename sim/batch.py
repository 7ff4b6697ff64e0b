"""Parameter points side by side: one :class:`~sim.params.ModelParams` for R runs with different values.

The phases of ``sim/turn.py`` read behavioural parameters as scalars (``params.perception.intent_gain``)
and combine them with state arrays that carry a leading run axis: actor arrays ``(R, n)`` and
dyad arrays ``(R, n, N)``. :func:`batch_model_params` builds, from the R runs' own parameters,
one ``ModelParams`` whose fields are plain floats where every run has the same value (so the
arithmetic is exactly that of a single run) and per-run arrays where they differ, shaped to
broadcast against the run axis of the arrays the field meets:

``(R, 1)``
    fields combined with actor arrays ``(R, n)``, or with per-run driver levels ``(R, 1)``;
``(R, 1, 1)``
    fields combined with dyad arrays ``(R, n, N)`` (the :data:`DYADIC` fields).

Why a fixed shape per field and not an array that adapts to its partner: numpy broadcasts by
trailing axes, so a per-run value of the wrong rank does not fail loudly in every case, it can
multiply across runs (``(R, 1, 1) * (R, n) -> (R, R, n)``) or, when R happens to equal n, mix
runs silently. Each field meets arrays of one rank only (:data:`DYADIC` says which), so one
shape per field is always right (one exception: ``spending.us_target_share_gdp`` also meets the
outcome columns ``(R,)``, and ``sim/outcomes.py`` flattens it there), and the batched equality
test (tests/test_batch.py) runs every batchable field at a different value per point with R
different from 1 and from N: a field used with the other rank would fail there (a shape error or
a different table), not in production. A new float parameter is batchable by default with shape
``(R, 1)``; if it meets dyad arrays, it belongs in :data:`DYADIC`, and if it builds the inputs,
in :data:`SHARED` (that test says so when it is missing). Driver policy levels are computed from
the batched policy parameters, so a driver's ``policy_level`` must be elementwise arithmetic.

Fields that build the run's inputs or its tables (:data:`SHARED`) and non-float fields (the
alignment rule, the landscape size basis, the gap weights) are never batched: runs that differ
in them belong to different batches (:func:`batch_key`).

The batched object is a ``ModelParams`` only in shape: it is built without validation (every
point was validated when it was made), it is never hashed, written or digested, and only the
engine's phases read it. The Mesa model never sees one: its agents get the scalar parameters of
their single run, and every phase is the same code for both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from sim.params import ModelParams, Params

# Fields combined with dyad arrays (R, n, N) in sim/turn.py and sim/rules/: per-run shape (R, 1, 1).
DYADIC = frozenset(
    {
        "perception.intent_decay_per_quarter",
        "perception.intent_gain",
        "perception.reassurance_gain",
        "perception.neighbour_spillover",
        "perception.partner_spillover",
        "perception.bloc_spillover",
        "perception.bystander_weight",
        "perception.hostile_reading_power",
        "perception.commitment_trust",
        "perception.affinity_power",
        "perception.threat_scale",
        "hostility.coercion",
        "hostility.criticism",
        "hostility.derisking",
        "hostility.buildup",
        "policy.engagement_level",
        "landscape.trust_weight",
        "landscape.threat_weight",
        "landscape.dispute_weight",
    }
    | {f"stance.{f.name}" for f in dataclasses.fields(ModelParams().stance)}
)
# Float fields that enter the run's inputs (sim/inputs.py) or its tables: one value per batch.
SHARED = frozenset(
    {
        "perception.spillover_distance_km",
        "perception.threat_distance_km",
        "perception.nuclear_offence_factor",
        "policy.us_techcontrol_baseline",
        "outcome.action_log_threshold",
    }
)


def _groups() -> list[str]:
    return [f.name for f in dataclasses.fields(ModelParams) if dataclasses.is_dataclass(f.default_factory)]


def batchable_fields() -> list[str]:
    """Dotted keys (``group.field``) of every float field of ModelParams that may differ within a batch."""
    defaults = ModelParams()
    keys = []
    for group in _groups():
        for f in dataclasses.fields(getattr(defaults, group)):
            key = f"{group}.{f.name}"
            if isinstance(getattr(getattr(defaults, group), f.name), float) and key not in SHARED:
                keys.append(key)
    return keys


BATCHABLE = frozenset(batchable_fields())
# (group, field) of every field of ModelParams's groups that a batch shares, in declaration order
_FIXED = tuple(
    (group, f.name)
    for group in _groups()
    for f in dataclasses.fields(getattr(ModelParams(), group))
    if f"{group}.{f.name}" not in BATCHABLE
)


def batch_key(params: Params) -> Hashable:
    """What runs of one batch must share: everything but the driver knobs, the scenario name and :data:`BATCHABLE`.

    The start of every run is spun up under factual knobs, so driver knobs may differ freely;
    the scenario's events, the actor set, the run settings, the alignment rule and the
    :data:`SHARED` fields may not.
    """
    model = params.params
    fixed = tuple(getattr(getattr(model, group), name) for group, name in _FIXED)
    return (params.run, params.actors, params.scenario.events, model.alignment_rule, fixed)


def batch_model_params(models: Sequence[ModelParams]) -> ModelParams:
    """One ``ModelParams`` for runs ``k = 0..R-1`` with parameters ``models[k]`` (see the module docstring).

    A field whose value is the same in every run stays that float; a field that differs becomes
    an array of the runs' values, shape ``(R, 1)``, or ``(R, 1, 1)`` for the :data:`DYADIC` fields.
    With one run (or R equal points) the result is ``models[0]`` itself.

    Raises
    ------
    ValueError
        If the runs differ in a field that cannot be batched (naming it).
    """
    first = models[0]
    if all(m is first or m == first for m in models[1:]):
        return first
    runs = len(models)
    groups: dict[str, Any] = {}
    for group in _groups():
        blocks = [getattr(m, group) for m in models]
        head = blocks[0]
        if all(b == head for b in blocks[1:]):
            groups[group] = head
            continue
        values: dict[str, Any] = {}
        for f in dataclasses.fields(head):
            key = f"{group}.{f.name}"
            column = [getattr(b, f.name) for b in blocks]
            if all(v == column[0] for v in column[1:]):
                values[f.name] = column[0]
            elif key in BATCHABLE:
                shape = (runs, 1, 1) if key in DYADIC else (runs, 1)
                values[f.name] = np.asarray(column, dtype=float).reshape(shape)
            else:
                raise ValueError(f"params.{key} differs between runs batched together; allowed: one value per batch")
        groups[group] = _unchecked(type(head), values)
    if any(m.alignment_rule != first.alignment_rule for m in models):
        raise ValueError("params.alignment_rule differs between runs batched together; allowed: one value per batch")
    return _unchecked(ModelParams, {"alignment_rule": first.alignment_rule, **groups})


def take_runs(model: ModelParams, runs: np.ndarray) -> ModelParams:
    """The runs ``runs`` (indices) of a batched ``model`` (a plain one, shared by every run, as it is)."""
    groups: dict[str, Any] = {}
    for group in _groups():
        block = getattr(model, group)
        values = {f.name: getattr(block, f.name) for f in dataclasses.fields(block)}
        per_run = {name: value[runs] for name, value in values.items() if isinstance(value, np.ndarray)}
        groups[group] = _unchecked(type(block), {**values, **per_run}) if per_run else block
    if all(groups[g] is getattr(model, g) for g in groups):
        return model
    return _unchecked(ModelParams, {"alignment_rule": model.alignment_rule, **groups})


def _unchecked[T](cls: type[T], values: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` with ``values``, built without its range checks."""
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj

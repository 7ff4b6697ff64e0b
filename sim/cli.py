"""The command line's own answers: ``--help``, and unknown keys or options caught before Hydra runs.

Both read only ``sim/params.py`` (every parameter, its unit and range) and the YAML files of
``configs/``, so ``python -m sim --help`` answers without importing the model. The override check
builds the tree of keys a composed config would have (the schema from ``sim/params.py``, the
main config and the chosen group options) and answers an unknown key, group or option with the
close matches, the keys allowed at that level and exit code 2, where Hydra would exit 1 with a
generic hint (or, for ``+key=value``, silently add a key nothing reads).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.params import Params, RunParams, check_folder_name, params_to_mapping

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
HELP_FLAGS = ("--help", "-h")
# Keys of the main config besides the model parameters (their checks are in sim/config.py).
JOB_KEYS: dict[str, str] = {
    "seed": "integer >= 0: seed of the run (several replicates: seeds spawned from it)",
    "replicates": "integer >= 1: runs of the job (several: the ensemble engine)",
    "engine": "auto | mesa | ensemble (auto: mesa for one run, ensemble for several)",
    "tables": "list, a subset of [states, dyads, actions, outcomes] with outcomes",
    "posterior": "true | false: draw behavioural parameters from the calibrated posterior",
    "figures.formats": "list of png | svg | pdf",
    "results_root": "folder of runs/ and sweeps/ (default results)",
}


class UsageError(ValueError):
    """A command-line override that names no key, group or option."""


# --------------------------------------------------------------------------------------------
# The config tree: groups, options, keys
# --------------------------------------------------------------------------------------------


def groups(config_dir: Path = CONFIG_DIR) -> dict[str, list[str]]:
    """Every config group (a folder of ``configs/``, ``hydra`` aside) and its options."""
    return {
        folder.name: sorted(p.stem for p in folder.glob("*.yaml"))
        for folder in sorted(config_dir.iterdir())
        if folder.is_dir() and folder.name != "hydra"
    }


def _load(path: Path) -> tuple[dict[str, Any], bool]:
    """A config file's content (its ``defaults`` list aside) and whether it is ``@package _global_``."""
    text = path.read_text(encoding="utf-8")
    content = yaml.safe_load(text) or {}
    content.pop("defaults", None)
    return content, "@package _global_" in text[:200]


def default_choices(config_dir: Path = CONFIG_DIR) -> dict[str, str | None]:
    """The group options the main config selects by default (``configs/config.yaml``'s defaults)."""
    loaded = yaml.safe_load((config_dir / "config.yaml").read_text(encoding="utf-8"))
    choices: dict[str, str | None] = {}
    for entry in loaded.get("defaults", []):
        if isinstance(entry, dict):
            for key, value in entry.items():
                if not str(key).startswith("override "):
                    choices[str(key)] = value
    return choices


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def key_tree(choices: Mapping[str, str | None], config_dir: Path = CONFIG_DIR) -> dict[str, Any]:
    """The keys of the config composed from ``choices`` (group -> option), as nested dicts."""
    tree: dict[str, Any] = params_to_mapping(Params())
    main, _ = _load(config_dir / "config.yaml")
    main.pop("hydra", None)
    _merge(tree, main)
    for group, option in choices.items():
        path = config_dir / group / f"{option}.yaml"
        if option is None or not path.is_file():
            continue
        content, is_global = _load(path)
        content.pop("hydra", None)
        _merge(tree, content if is_global else {group: content})
    return tree


# --------------------------------------------------------------------------------------------
# Checking the overrides
# --------------------------------------------------------------------------------------------


def did_you_mean(word: str, allowed: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the close matches of ``word`` among ``allowed``, else ``''``."""
    close = difflib.get_close_matches(word, list(allowed), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def check_key(key: str, tree: Mapping[str, Any], adding: bool, config_groups: Sequence[str] = ()) -> None:
    """Refuse a dotted ``key`` that is not in ``tree``; at the top level, ``config_groups`` are named too.

    A misspelt group (``alignment_rul=landscape``) is a top-level key that nothing knows: the
    close matches and the list include the groups, which are chosen at that level.
    """
    node: Any = tree
    parts = key.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "at the top level"
        if not isinstance(node, Mapping):
            raise UsageError(f"{'.'.join(parts[:depth])} is a value, not a group of keys; it has no key {part!r}")
        if part not in node:
            top_groups = sorted(set(config_groups) - set(node)) if depth == 0 else []
            hint = did_you_mean(part, sorted(node) + top_groups)
            prefix = "+" if adding else ""
            level = where if depth == 0 else f"in {where}"
            raise UsageError(
                f"unknown key {prefix}{key}{hint}; allowed keys {level}: {sorted(node)}"
                + (f", and the config groups {top_groups}" if top_groups else "")
                + (" (a '+' adds a key that nothing reads)" if adding else "")
            )
        node = node[part]


# Keys whose value becomes a folder name under results_root.
FOLDER_NAME_KEYS = ("scenario.name",)


def check_contained(name: str, override: Any) -> None:
    """Refuse an override that would instantiate code or write outside ``results_root``.

    Configs and overrides are code (README, "Trust"): a ``_target_`` or a Hydra callback set on
    the command line would run any callable (``builtins.open`` truncates a file), so it must
    come from a config file, where it is reviewed like code. Names that become folders may not
    leave their parent folder.
    """
    if "_target_" in name.split(".") or name.startswith("hydra.callbacks"):
        raise UsageError(
            f"{name}: overrides that name code to run (_target_, hydra.callbacks) are refused on the command "
            "line; allowed: put them in a config file you trust"
        )
    if name in FOLDER_NAME_KEYS and not override.is_delete():
        for value in _option_values(override):
            try:
                check_folder_name(name, value)
            except ValueError as err:
                raise UsageError(str(err)) from None


def check_overrides(args: Sequence[str], choices: Mapping[str, str | None] | None = None) -> None:
    """Raise :class:`UsageError` for an override naming an unknown key, group or group option.

    ``args`` are the command-line arguments (flags and ``hydra.*`` overrides are left to Hydra);
    ``choices`` the group options the entry point selects before the command line's own.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    overrides = [a for a in args if "=" in a and not a.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except OverrideParseException as err:
        raise UsageError(f"cannot read the override: {err}") from err
    known = groups()
    selected: dict[str, str | None] = {**default_choices(), **(choices or {})}
    chosen_rule: str | None = (choices or {}).get("alignment_rule")  # a rule chosen on purpose
    keys = []
    for override in parsed:
        name = override.key_or_group
        check_contained(name, override)
        if name.startswith("hydra"):
            continue
        if name in known:
            options = _option_values(override)
            for option in options:
                if option not in known[name]:
                    raise UsageError(
                        f"{name}={option} names no option of group {name}{did_you_mean(option, known[name])}; "
                        f"allowed: {known[name]}"
                    )
            if len(options) == 1:
                selected[name] = options[0]
            if name == "alignment_rule":
                chosen_rule = options[0] if len(options) == 1 else None
        elif "/" in name:
            raise UsageError(
                f"unknown config group {name}{did_you_mean(name, sorted(known))}; allowed: {sorted(known)}"
            )
        elif not override.is_delete():
            keys.append((name, override.is_add() or override.is_force_add()))
            if name == "params.alignment_rule" and not override.is_sweep_override():
                chosen_rule = str(override.value())
    tree = key_tree(selected)
    for name, adding in keys:
        check_key(name, tree, adding, sorted(known))
    check_rule_of_params(selected.get("params"), chosen_rule)


def check_rule_of_params(option: str | None, rule: str | None) -> None:
    """Refuse a parameter set calibrated under one alignment rule run under another.

    A params file that records ``alignment_rule`` (every calibration: ``calibrated.yaml``, the
    default, and the per-rule calibrations of ``experiments/theories.py``) selects that rule
    itself, after the ``alignment_rule`` group; naming another rule is an error, never a run of
    one rule's parameters under another.
    """
    path = CONFIG_DIR / "params" / f"{option}.yaml"
    if option is None or rule is None or not path.is_file():
        return
    recorded = _load(path)[0].get("alignment_rule")
    if recorded is not None and recorded != rule:
        own_calibration = path.parent / f"calibrated_{rule}.yaml"
        own = f"params=calibrated_{rule} (that rule's own calibration), " if own_calibration.is_file() else ""
        raise UsageError(
            f"params={option} was calibrated under alignment_rule={recorded}, but alignment_rule={rule} was chosen; "
            f"allowed: alignment_rule={recorded} (or leave it out: params={option} selects it), "
            f"{own}or params=default (the documented defaults) with alignment_rule={rule}"
        )


def _option_values(override: Any) -> list[str]:
    if override.is_sweep_override():
        return list(override.sweep_string_iterator()) if override.is_discrete_sweep() else []
    value = override.value()
    return [str(value)] if value is not None else []


# --------------------------------------------------------------------------------------------
# --help
# --------------------------------------------------------------------------------------------


def wants_help(args: Sequence[str]) -> bool:
    """Whether the command line asks for this tool's help (``--help`` or ``-h``)."""
    return any(a in HELP_FLAGS for a in args)


def _describe(field: dataclasses.Field[Any]) -> str:
    meta = field.metadata
    if "choices" in meta:
        return " | ".join(meta["choices"])
    unit = meta.get("unit", "1")
    if "allowed" in meta:  # checked against the run's period: shown for the default one
        return meta["allowed"](RunParams()) + (f" {unit}" if unit != "1" else "")
    if "range" in meta:
        lo, hi = meta["range"]
        return f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]" + (f" {unit}" if unit != "1" else "")
    return "list" if isinstance(field.default, tuple) else "string"


def parameter_lines(obj: Any = None, prefix: str = "", skip: tuple[str, ...] = ("params",)) -> list[str]:
    """One line per leaf key of the parameters ``obj`` (default ``Params()``): key, default, range and unit.

    Nested parameter groups (dataclasses, and mappings of them such as the driver registry's
    knobs) are walked, so a newly registered driver or section appears without a change here.
    """
    obj = Params() if obj is None else obj
    lines = []
    for field in dataclasses.fields(obj):
        key = f"{prefix}{field.name}"
        if field.name in skip and not prefix:
            continue
        value = getattr(obj, field.name)
        if dataclasses.is_dataclass(value):
            lines += parameter_lines(value, f"{key}.", skip)
        elif isinstance(value, Mapping) and value and all(dataclasses.is_dataclass(v) for v in value.values()):
            for name, item in value.items():
                lines += parameter_lines(item, f"{key}.{name}.", skip)
        else:
            shown = value
            if isinstance(value, tuple):
                shown = "[" + ",".join(map(str, value)) + "]" if len(value) <= 6 else f"[{len(value)} items]"
            lines.append(f"  {key:<42} {shown!s:<12} {_describe(field)}")
    return lines


def help_text(program: str = "python -m sim") -> str:
    """The answer to ``python -m sim --help``: groups, common overrides, sweeps, where to read more."""
    known = groups()
    first_lines = {
        (group, option): _first_comment(CONFIG_DIR / group / f"{option}.yaml")
        for group, options in known.items()
        for option in options
    }
    out = [
        f"usage: {program} [key=value ...] [group=option ...]        one run (results/runs/...)",
        f"       {program} -m key=a,b,c [key2=x,y ...]              a sweep of every combination",
        "",
        "Config groups (group=option; the first is the default where one is chosen):",
    ]
    chosen = default_choices()
    for group, options in known.items():
        default = chosen.get(group)
        ordered = ([default] if default in options else []) + [o for o in options if o != default]
        out.append(f"  {group}: {', '.join(ordered)}" + ("" if default else "   (none by default; +" + group + "=...)"))
    out += ["", "Job options:"] + [f"  {key:<42} {text}" for key, text in JOB_KEYS.items()]
    out += ["", "Common overrides (key, default, allowed range and unit, from sim/params.py):"]
    out += parameter_lines()
    model = Params().params
    sections = ", ".join(f.name for f in dataclasses.fields(model) if dataclasses.is_dataclass(getattr(model, f.name)))
    out += [
        f"  params.<section>.<name>                    behavioural parameters, sections {sections};",
        "                                             each with unit, range and source in sim/params.py, docs/ODD.md",
        "",
        "Ready-made sweeps (python -m sim -m +sweep=<name>):",
    ]
    out += [f"  {option:<20} {first_lines['sweep', option]}" for option in known.get("sweep", [])]
    out += [
        "",
        "Experiments: python -m experiments.<name> (" + ", ".join(known.get("experiment", [])) + ")",
        "Results: python -m sim.catalog lists every run, sweep and experiment.",
        "Hydra's own options: --hydra-help; the composed config: --cfg job",
    ]
    return "\n".join(out)


def _first_comment(path: Path) -> str:
    """The first sentence of a config file's leading comment."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.lstrip("# ").strip()
        if not line.startswith("#") or text.startswith("python"):
            break
        if text and not text.startswith("@package"):
            words.append(text)
    sentence = " ".join(words)
    return sentence.split(". ", 1)[0].rstrip(".,")

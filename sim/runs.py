"""Running a parameter set for one or many seeds, with either engine.

``replicates`` runs of a job draw their seeds from ``numpy.random.SeedSequence(seed).spawn(n)``
(one run keeps ``seed`` itself, so ``python -m sim seed=7`` is ``simulate(params, 7)``).
``engine="auto"`` takes the Mesa model for a single run and the ensemble engine for several;
both give the same tables for the same seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.ensemble import chunk_tables
from sim.params import Params
from sim.posterior import Posterior
from sim.progress import bar
from sim.records import TABLES

ENGINES = ("auto", "mesa", "ensemble")
PROGRESS_CHUNK = 50  # ensemble runs between two progress updates (throughput is flat from a few dozen)


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """The seeds of ``replicates`` runs: ``seed`` itself for one, else spawned children of it.

    Each child is ``SeedSequence(seed).spawn(replicates)[k].generate_state(1)[0]``, an integer
    that seeds a run on its own (the ``seed`` column of the tables).
    """
    if replicates < 1:
        raise ValueError(f"replicates={replicates}; allowed: an integer >= 1")
    if replicates == 1:
        return [int(seed)]
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def resolve_engine(engine: str, runs: int) -> str:
    """The engine that ``engine`` means for ``runs`` runs (``auto``: mesa for one, else ensemble)."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; allowed: {list(ENGINES)}")
    if engine == "auto":
        return "mesa" if runs == 1 else "ensemble"
    return engine


def run_tables(
    params: Params,
    seeds: Sequence[int],
    engine: str = "auto",
    names: tuple[str, ...] = TABLES,
    posterior: Posterior | None = None,
) -> dict[str, pd.DataFrame]:
    """Result tables ``names`` of ``params`` run once per seed, by ``engine``.

    With a ``posterior``, run k takes the behavioural parameters of posterior sample k. Several
    runs show a progress bar (:mod:`sim.progress`).
    """
    resolved = resolve_engine(engine, len(seeds))
    runs: list[dict[str, pd.DataFrame]] = []
    with bar(total=len(seeds), desc=params.scenario.name, disable=len(seeds) == 1) as done:
        if posterior is not None:
            for k, seed in enumerate(seeds):
                runs.append(run_tables(posterior.params(params, k), [seed], resolved, names))
                done.update(1)
        elif resolved == "ensemble":
            for first, chunk in zip(
                range(0, len(seeds), PROGRESS_CHUNK), chunk_tables([params], seeds, names, PROGRESS_CHUNK), strict=True
            ):
                runs.append({name: table.to_pandas() for name, table in chunk.items()})
                done.update(min(PROGRESS_CHUNK, len(seeds) - first))
        else:
            from sim.model import simulate  # Mesa only when the Mesa engine runs

            for seed in seeds:
                runs.append({n: t for n, t in simulate(params, seed).items() if n in names})
                done.update(1)
    return {name: pd.concat([run[name] for run in runs], ignore_index=True) for name in names}

"""Running a parameter set for one or many seeds, with either engine.

``replicates`` runs of a job draw their seeds from ``numpy.random.SeedSequence(seed).spawn(n)``
(one run keeps ``seed`` itself, so ``python -m sim seed=7`` is ``simulate(params, 7)``).
``engine="auto"`` takes the Mesa model for a single run and the ensemble engine for several;
both give the same tables for the same seeds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.ensemble import chunk_tables
from sim.params import Params
from sim.posterior import Posterior
from sim.progress import bar
from sim.records import TABLES

ENGINES = ("auto", "mesa", "ensemble")
# Ensemble runs per batch of a job: one progress update each, and the memory of one batch's tables
# (with dyads and actions, N^2 rows per run and turn: ~10 MB a run while they are built, so a job
# of any size stays near 1 GB; throughput is flat from a few dozen runs).
CHUNK = 50


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


def table_chunks(
    params: Params,
    seeds: Sequence[int],
    engine: str = "auto",
    names: tuple[str, ...] = TABLES,
    posterior: Posterior | None = None,
) -> Iterator[dict[str, pd.DataFrame | pa.Table]]:
    """Result tables ``names`` of ``params`` run once per seed, by ``engine``, a chunk of runs at a time.

    Concatenated, the chunks are the tables of all runs in seed order; memory stays that of one
    chunk (:data:`CHUNK` runs for the ensemble engine, one run for Mesa). With a ``posterior``,
    run k takes the behavioural parameters of posterior sample k. Several runs show a progress
    bar (:mod:`sim.progress`).
    """
    resolved = resolve_engine(engine, len(seeds))
    with bar(total=len(seeds), desc=params.scenario.name, disable=len(seeds) == 1) as done:
        if posterior is not None:
            for k, seed in enumerate(seeds):
                yield run_tables(posterior.params(params, k), [seed], resolved, names)
                done.update(1)
        elif resolved == "ensemble":
            for first, chunk in zip(
                range(0, len(seeds), CHUNK), chunk_tables([params], seeds, names, CHUNK), strict=True
            ):
                yield chunk
                done.update(min(CHUNK, len(seeds) - first))
        else:
            from sim.model import simulate  # Mesa only when the Mesa engine runs

            for seed in seeds:
                yield {n: t for n, t in simulate(params, seed).items() if n in names}
                done.update(1)


def run_tables(
    params: Params,
    seeds: Sequence[int],
    engine: str = "auto",
    names: tuple[str, ...] = TABLES,
    posterior: Posterior | None = None,
) -> dict[str, pd.DataFrame]:
    """Result tables ``names`` of ``params`` run once per seed, by ``engine``, held in memory.

    For many runs write them with :func:`sim.store.stream_tables` over :func:`table_chunks`.
    """
    parts: dict[str, list[pd.DataFrame | pa.Table]] = {name: [] for name in names}
    for chunk in table_chunks(params, seeds, engine, names, posterior):
        for name in names:
            parts[name].append(chunk[name])
    return {name: concat(tables) for name, tables in parts.items()}


def concat(tables: Sequence[pd.DataFrame | pa.Table]) -> pd.DataFrame:
    """One data frame of the chunks ``tables`` (Arrow from the ensemble engine, pandas from Mesa)."""
    return pd.concat([t.to_pandas() if isinstance(t, pa.Table) else t for t in tables], ignore_index=True)

"""t-SNE by openTSNE: one code path for every size, seeded, and able to start from a previous map.

openTSNE (Poličar, Stražar & Zupan, 2024) builds the affinities over each point's
3 x perplexity nearest neighbours and optimises with Barnes-Hut gradients below `FFT_FROM`
points and FFT-accelerated interpolation (Linderman et al., 2019: O(n)) from there. A full map:
openTSNE's PCA initialisation, `EXAGGERATION_ITERATIONS` of early exaggeration 12 at learning
rate n / 12, then `ITERATIONS` plain ones at n (Belkina et al., 2019), momentum 0.8 throughout
(openTSNE's defaults): 500 iterations, half of scikit-learn's 1,000, for as trustworthy a map
of penultimate vectors (bench/bench_tsne.py). Maps of up to `SMALL_UP_TO` points take half
that, 100 + 150: on the penultimate vectors of Fashion-MNIST test images (1,000 and 2,000 of
them) the maps look the same and are as trustworthy (0.984 vs 0.984, 0.995 vs 0.995), in half
the time.

With `initial`, the map of the same points from the previous epoch, the new affinities are
optimised from there instead: `ALIGNED_EXAGGERATION_ITERATIONS` at a mild exaggeration (so that
classes the new features regroup can move), then `ALIGNED_ITERATIONS` plain ones, and no PCA or
early-exaggeration phase. Consecutive maps so line up (a class stays about where it was; the
points move 5-7% of the map's extent from one epoch to the next) in 70 iterations, as
trustworthy as a full map's (1,000 points: 0.4 s vs 1 s). Pure: arrays in, an array out;
long runs log their progress.
"""

from __future__ import annotations

import logging
import os

import numpy as np

logger = logging.getLogger(__name__)

EARLY_EXAGGERATION = 12.0
EXAGGERATION_ITERATIONS = 250
ITERATIONS = 250
SMALL_UP_TO = 2000  # maps of at most this many points converge in fewer iterations:
SMALL_EXAGGERATION_ITERATIONS = 100
SMALL_ITERATIONS = 150
ALIGNED_EXAGGERATION = 4.0
ALIGNED_EXAGGERATION_ITERATIONS = 30
ALIGNED_ITERATIONS = 40
FFT_FROM = 3000  # Barnes-Hut is faster below this many points, FFT interpolation from here
BH_THETA = 0.8  # coarser than openTSNE's 0.5: a fifth faster at 1,000 points, as trustworthy
FFT_INTS_IN_INTERVAL = 2  # grid cells 2 map units wide: 4x fewer than openTSNE's 1, same map
EXACT_NEIGHBOURS_UP_TO = 20_000  # brute-force kNN beats Annoy up to here (10k: 0.4 s vs 3 s)
PARALLEL_FROM = 5000  # below this, threads cost more than they save (and training needs the CPU)
PROGRESS_FROM = 5000  # maps of this many points log a line every PROGRESS_EVERY iterations
PROGRESS_EVERY = 100


def tsne(
    features: np.ndarray,
    perplexity: float = 30.0,
    seed: int = 0,
    initial: np.ndarray | None = None,
    *,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Embed `features` `(n, ...)` (flattened to `(n, d)`, n >= 2) in 2-D; float32 `(n, 2)`.

    Args:
        features: one feature vector per point.
        perplexity: about how many neighbours each point keeps close; clamped to
            `max((n - 1) / 3, 1)` so that small sets (3 points) work. Defaults to 30.
        seed: random state of the PCA initialisation's jitter (and of Annoy past
            `EXACT_NEIGHBOURS_UP_TO` points): the same seed gives the same map.
        initial: `(n, 2)`, a previous map of the same points to start from (see the module
            docstring); None (the default) makes a map from scratch.
        n_jobs: threads. Defaults to 1 below `PARALLEL_FROM` points, else half the usable
            cores (the other half stays with training; on 2 cores a second thread measured no
            faster at 10,000 points).
    """
    from openTSNE import TSNEEmbedding  # heavy: loaded when a map is asked for

    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    n = len(x)
    if n < 2:
        raise ValueError(f"t-SNE needs at least 2 points. Received shape {x.shape}")
    threads = n_jobs or (1 if n < PARALLEL_FROM else max(1, _usable_cores() // 2))
    affinities = _affinities(x, perplexity, seed, threads)
    if initial is None:
        start, phases = _initialisation(x, seed), (_SMALL if n <= SMALL_UP_TO else _FULL)
    else:
        start, phases = _checked_initial(initial, n), _ALIGNED
    embedding = TSNEEmbedding(
        start,
        affinities,
        negative_gradient_method="fft" if n >= FFT_FROM else "bh",
        theta=BH_THETA,
        ints_in_interval=FFT_INTS_IN_INTERVAL,
        n_jobs=threads,
        random_state=seed,
    )
    progress = _Progress(n, sum(i for i, _ in phases)) if n >= PROGRESS_FROM else None
    for iterations, exaggeration in phases:
        embedding = embedding.optimize(
            iterations,
            exaggeration=exaggeration,
            inplace=True,
            callbacks=progress,
            callbacks_every_iters=PROGRESS_EVERY,
        )
        if progress is not None:
            progress.end_of_phase(iterations, embedding.kl_divergence)
    return np.asarray(embedding, dtype=np.float32)


# (iterations, exaggeration) per phase; None: no exaggeration
_FULL = ((EXAGGERATION_ITERATIONS, EARLY_EXAGGERATION), (ITERATIONS, None))
_SMALL = ((SMALL_EXAGGERATION_ITERATIONS, EARLY_EXAGGERATION), (SMALL_ITERATIONS, None))
_ALIGNED = ((ALIGNED_EXAGGERATION_ITERATIONS, ALIGNED_EXAGGERATION), (ALIGNED_ITERATIONS, None))


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _affinities(x: np.ndarray, perplexity: float, seed: int, threads: int):
    """Gaussian affinities over the 3 x perplexity nearest neighbours, perplexity clamped."""
    from openTSNE.affinity import PerplexityBasedNN

    n = len(x)
    perplexity = float(min(perplexity, max((n - 1) / 3.0, 1.0)))
    return PerplexityBasedNN(
        x,
        perplexity=perplexity,
        k_neighbors=min(n - 1, max(1, int(3 * perplexity))),
        method="exact" if n <= EXACT_NEIGHBOURS_UP_TO else "annoy",
        n_jobs=threads,
        random_state=seed,
    )


def _initialisation(x: np.ndarray, seed: int) -> np.ndarray:
    """openTSNE's PCA start (the first two components scaled to std 1e-4, jittered); a
    seeded random one where the data has fewer than two directions or no spread."""
    from openTSNE import initialization

    if min(x.shape) >= 2 and np.ptp(x, axis=0).max() > 0:
        start = initialization.pca(x, random_state=seed)
        if np.isfinite(start).all() and start.std() > 0:
            return start
    return initialization.random(len(x), random_state=seed)


def _checked_initial(initial: np.ndarray, n: int) -> np.ndarray:
    start = np.array(initial, dtype=np.float64)  # a copy: the optimiser works in place
    if start.shape != (n, 2) or not np.isfinite(start).all():
        raise ValueError(
            f"`initial` must be a finite map of the same {n} points, shape ({n}, 2). "
            f"Received shape {start.shape}"
        )
    return start


class _Progress:
    """openTSNE callback: a log line every `PROGRESS_EVERY` iterations of a long map."""

    def __init__(self, n: int, total: int):
        self.n, self.total = n, total
        self.done = 0  # iterations of the phases before this one
        self.logged = 0

    def __call__(self, iteration: int, error: float, embedding: np.ndarray) -> bool:
        self._log(self.done + iteration, error)
        return False  # never stop early

    def end_of_phase(self, iterations: int, error: float) -> None:
        self.done += iterations
        if self.logged != self.done:
            self._log(self.done, error)

    def _log(self, iteration: int, error: float) -> None:
        self.logged = iteration
        logger.info(
            f"t-SNE of {self.n:,} points: iteration {iteration} of {self.total} "
            f"(KL divergence {error:.3f})"
        )

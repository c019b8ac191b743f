"""The main generator: encode → PCA → Gaussian mixture, with k chosen by AIC or BIC.

Why this shape: after the reversible encoding (see ``advsynth.encoding``) the table is a
cloud of real vectors; PCA drops directions that carry no variance (one-hot columns are
linearly dependent) so the mixture's covariances stay well conditioned, and a mixture of
full-covariance Gaussians captures the dependence between columns that the baseline
ignores. The number of components is the one real modelling choice; an information
criterion picks it from a sweep, on a bounded subsample so that the sweep costs the same
for 30 thousand rows as for 30 million, and the chosen model is then refitted on all rows.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from ..encoding import MARGINAL_VALUES, LatentCategoricals, TableEncoder, discrete_columns, enforce_implied_missing, tied_groups
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..errors import ConfigError
from .base import Synthesizer
from .conditional import ConditionalRedraw, predictable_columns
from .dependencies import apply_dependencies, find_dependencies
from . import guard
from .mixture import BlockedGaussianMixture
from .refinement import CALIBRATION_ROWS as RATIO_CALIBRATION_ROWS, DensityRatio, rejection_sample

log = logging.getLogger(__name__)

CRITERIA = ("bic", "aic")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
DECODINGS = ("latent", "argmax")
CALIBRATION_ROWS = 50_000  # rows drawn once per fit to tune the one-hot blocks' biases (TableEncoder.calibrate)
EDGE_ROWS_PER_COMPONENT = 80  # fitted rows per component at least when k grows past the swept range (GMMSynthesizer.grown_k)
REDRAW_ROWS = 20_000  # training rows the redraw's trees are fitted on at most (bounded cost whatever the table)
REFINE_ROWS = 20_000  # training rows each refinement classifier compares with as many draws, at most
MIN_REFINE_ROWS = 5000  # below this many training rows the classifier learns the rows, not their density: no refinement


class GMMSynthesizer(Synthesizer):
    """PCA + Gaussian mixture generator for mixed-type tables.

    Parameters
    ----------
    pca_variance : share of variance PCA keeps (0 < v ≤ 1; 1 keeps every component).
    min_components, max_components : the range of k swept by the criterion.
    edge_growth : when the criterion's best k is ``max_components`` itself, k is multiplied by at
        most this (1: never; ``grown_k`` says by how much and why).
    n_candidates : at most this many k values, evenly spread over the range, are tried.
    criterion : "bic" or "aic".
    covariance_type : as in ``sklearn.mixture.GaussianMixture``.
    selection_rows : rows sub-sampled for the sweep (bounds its cost independently of n).
    fit_rows : rows sub-sampled for the final fit (None: all rows); EM costs O(rows·k·d²).
    max_iter, n_init : EM settings of the final fit.
    point_mass_share : see ``TableEncoder``.
    categorical_decoding : how one-hot encoded (discrete) columns come back. "latent" (default)
        draws each row's level from its mixture component's own frequencies, tied columns as one
        combination (``advsynth.encoding.LatentCategoricals``); "argmax" takes the largest
        coordinate of the decoded one-hot block (the original decoder, kept for comparison).
    latent_min_levels : with "latent", only groups holding a column with at least this many
        levels are drawn; the others keep argmax (1: every discrete column).
    latent_tie : the conditional-entropy share under which two columns count as tied (see
        ``advsynth.encoding.tied_groups``).
    latent_prior : pseudo-rows shrinking each component's frequencies towards the overall ones.
    match_marginals : continuous columns are decoded by rank onto the real quantiles (see
        ``TableEncoder``): exact marginals and heaps, the mixture's dependence kept.
    marginal_values, heap_min_count : which values rank matching outputs (``advsynth.encoding.RankMarginal``):
        "smooth" keeps heaps (values of >= heap_min_count training rows) exact and never copies a
        rarer training value; "exact" outputs training values only; "grid" a 1000-quantile grid.
    max_encoded_cells : the encoded matrix PCA is fitted on holds at most this many floats
        (rows are subsampled beyond it), so memory stays bounded whatever the table's size.
    dependencies : find the columns that are functions of another column on the training rows
        and rebuild them from it after every draw (``advsynth.synthesizers.dependencies``).
    redraw : columns redrawn after the mixture's draw, each given the others, from trees fitted
        on the training rows (``advsynth.synthesizers.conditional``): "auto" (the columns the
        others largely determine, ``predictable_columns``; none on fewer than ``AUTO_MIN_LEAVES``
        times ``redraw_min_leaf`` training rows), a list of names, "all", or None
        (none). ``advsynth run --adversarial`` adds columns from the detector's giveaways
        (redrawing every column of a table of few distinct rows can rebuild training rows).
    redraw_sweeps : how many times each redrawn column is redrawn (a Gibbs-style sweep).
    redraw_min_leaf : the fewest training rows of a redraw tree's leaf.
    refine : rounds of density-ratio refinement (``advsynth.synthesizers.refinement``): each round a
        classifier tells the training rows from draws of the sampler so far, and draws are kept
        with a probability proportional to its density ratio (0: none; skipped below
        ``MIN_REFINE_ROWS`` training rows).
    refine_acceptance : the share of draws refinement keeps (the cost of sampling is 1 / it; a
        higher share corrects less where the ratio is large).
    privacy_guard : hold back some training rows from the fit and check the fitted model against
        them with the privacy adversary's statistics, giving up capacity (refinement, then the
        redraw's small leaves, then components) while a test fires (``advsynth.synthesizers.guard``;
        tables of fewer than ``guard.MIN_ROWS`` training rows are not checked); ``guard_`` records
        what it found. Off by default: on a few thousand held-back rows its check is noisy, and
        a false alarm costs a table its refinement (the module says what was measured).
    n_jobs : threads for the sweep's candidate fits (each fit is seeded on its own) and for the
        final fit's EM steps (``advsynth.synthesizers.mixture``); the result does not depend on it.
    random_state : seeds every random choice (subsample, PCA, EM initialisation, sampling).
    """

    name = "gmm"
    _positive = [Interval(Integral, 1, None, closed="left")]
    _share = [Interval(Real, 0, 1, closed="both")]
    _parameter_constraints = {
        **Synthesizer._parameter_constraints,
        "pca_variance": [Interval(Real, 0, 1, closed="right")],
        "min_components": _positive, "max_components": _positive, "n_candidates": _positive,
        "edge_growth": [Interval(Real, 1, None, closed="left")],
        "criterion": [StrOptions(set(CRITERIA))],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "selection_rows": _positive, "fit_rows": [*_positive, None], "max_iter": _positive, "n_init": _positive,
        "point_mass_share": _share,
        "categorical_decoding": [StrOptions(set(DECODINGS))],
        "latent_min_levels": _positive, "latent_tie": _share, "latent_prior": [Interval(Real, 0, None, closed="left")],
        "match_marginals": ["boolean"],
        "marginal_values": [StrOptions(set(MARGINAL_VALUES))],
        "heap_min_count": _positive,
        "dependencies": ["boolean"],
        "redraw": [None, StrOptions({"all", "auto"}), list, tuple],
        "redraw_sweeps": _positive, "redraw_min_leaf": _positive,
        "refine": [Interval(Integral, 0, None, closed="left")],
        "refine_acceptance": [Interval(Real, 0.01, 1, closed="both")],
        "privacy_guard": ["boolean"],
        "n_jobs": _positive, "max_encoded_cells": _positive,
    }
    # the parameters the pipeline carries (each a pipeline parameter named in CamelCase, and a
    # hyperparameter of the generator's training job), and those the job takes beyond them
    _pipeline_parameters = ("pca_variance", "min_components", "max_components", "n_candidates", "criterion",
                            "selection_rows", "fit_rows", "redraw", "refine", "privacy_guard")
    _job_parameters = _pipeline_parameters + ("covariance_type", "max_iter", "n_init")

    def __init__(
        self,
        pca_variance: float = 0.99,
        min_components: int = 1,
        max_components: int = 60,
        edge_growth: float = 2.0,
        n_candidates: int = 4,
        criterion: str = "aic",
        covariance_type: str = "full",
        selection_rows: int = 4000,
        fit_rows: int | None = 10000,
        max_iter: int = 200,
        n_init: int = 1,
        point_mass_share: float = 0.2,
        categorical_decoding: str = "latent",
        latent_min_levels: int = 20,
        latent_tie: float = 0.05,
        latent_prior: float = 1.0,
        match_marginals: bool = True,
        marginal_values: str = "smooth",
        heap_min_count: int = 3,
        dependencies: bool = True,
        redraw: list[str] | str | None = "auto",
        redraw_sweeps: int = 2,
        redraw_min_leaf: int = 10,
        refine: int = 1,
        refine_acceptance: float = 0.2,
        privacy_guard: bool = False,
        n_jobs: int = 2,
        max_encoded_cells: int = 20_000_000,
        random_state: int = 0,
    ):
        self.pca_variance = pca_variance
        self.min_components = min_components
        self.max_components = max_components
        self.edge_growth = edge_growth
        self.n_candidates = n_candidates
        self.criterion = criterion
        self.covariance_type = covariance_type
        self.selection_rows = selection_rows
        self.fit_rows = fit_rows
        self.max_iter = max_iter
        self.n_init = n_init
        self.point_mass_share = point_mass_share
        self.categorical_decoding = categorical_decoding
        self.latent_min_levels = latent_min_levels
        self.latent_tie = latent_tie
        self.latent_prior = latent_prior
        self.match_marginals = match_marginals
        self.marginal_values = marginal_values
        self.heap_min_count = heap_min_count
        self.dependencies = dependencies
        self.redraw = redraw
        self.redraw_sweeps = redraw_sweeps
        self.redraw_min_leaf = redraw_min_leaf
        self.refine = refine
        self.refine_acceptance = refine_acceptance
        self.privacy_guard = privacy_guard
        self.n_jobs = n_jobs
        self.max_encoded_cells = max_encoded_cells
        self.random_state = random_state

    def check_params(self) -> None:
        """The declared constraints, then what spans parameters (the k range)."""
        super().check_params()
        if int(self.min_components) > int(self.max_components):
            raise ConfigError(
                f"need min_components <= max_components, got {self.min_components} and {self.max_components}")
        if isinstance(self.redraw, (list, tuple)) and not all(isinstance(c, str) for c in self.redraw):
            raise ConfigError(f"redraw must be a list of column names, 'auto', 'all' or null, got {self.redraw!r}")

    def _check_redraw_columns(self) -> None:
        """What needs the data: the redrawn columns must be modelled ones."""
        names = [c.name for c in self.schema_.modelled]
        unknown = [c for c in (self.redraw if isinstance(self.redraw, (list, tuple)) else []) if c not in names]
        if unknown:
            raise ConfigError(f"redraw names columns that are not modelled: {', '.join(map(str, unknown))}")

    def candidates(self, n_rows: int, n_dims: int = 1) -> list[int]:
        """The k values swept: evenly spread over the range, at most one per ``n_dims + 1`` rows.

        Why the cap: a full covariance in d dimensions needs more than d points; a component
        with fewer collapses onto the rows it covers, and sampling it replays them (on
        scikit-learn's 150-570-row tables AIC otherwise picks such k and the synthetic rows
        sit closer to the training rows than unseen real rows do).
        """
        hi = min(int(self.max_components), max(1, n_rows // (n_dims + 1)))
        lo = min(int(self.min_components), hi)
        count = min(int(self.n_candidates), hi - lo + 1)
        return sorted(set(np.linspace(lo, hi, num=count).round().astype(int).tolist()))

    def grown_k(self, best: int, swept: list[int], sweep_rows: int, fit_rows: int, n_dims: int = 1) -> int:
        """The k fitted when the sweep's best is ``best``: when ``best`` is ``max_components`` (the
        range stopped the sweep, not the rows' cap), ``best`` times ``edge_growth`` or times the
        final fit's rows over the sweep's (``fit_rows / sweep_rows``), whichever is smaller, with
        at least ``EDGE_ROWS_PER_COMPONENT`` fitted rows per component, and more than ``n_dims``
        (a full covariance needs them, as in ``candidates``); else ``best``.

        Why: a best k at the top of the range says the table has more structure than the range
        allows, and the criterion, computed on the sweep's smaller sample, penalises components
        that the final fit's larger sample can afford; the ratio of the two samples bounds how
        many more. The strong detector agrees: on the real tables whose sweep ends at its top,
        twice the k is caught less (README, "A k that scales with the table"); where the sweep
        stops inside the range, or the sweep saw every row (a small table), nothing changes. A
        fixed k (one candidate) is never grown.
        """
        if len(swept) < 2 or best != max(swept) or best < int(self.max_components):
            return int(best)
        factor = min(float(self.edge_growth), fit_rows / max(sweep_rows, 1))
        per_component = max(EDGE_ROWS_PER_COMPONENT, int(n_dims) + 1)
        return int(max(best, min(round(best * factor), fit_rows // per_component)))

    def _mixture(self, k: int, max_iter: int, n_threads: int = 1) -> BlockedGaussianMixture:
        return BlockedGaussianMixture(
            n_components=k,
            covariance_type=self.covariance_type,
            max_iter=max_iter,
            n_init=self.n_init,
            reg_covar=1e-4,
            random_state=self.random_state,
            n_threads=n_threads,
        )

    def _fit(self, df: pd.DataFrame, groups: np.ndarray | None = None) -> None:
        # EM multiplies many small matrices; OpenBLAS threads spin-wait on them and, on a busy
        # 2-core machine, made the fit 15x slower than one thread (measured).
        with threadpool_limits(1, user_api="blas"):
            held = guard.held_back(len(df), groups, int(self.random_state)) if self.privacy_guard else None
            self.guard_ = None
            if held is None:
                self._fit_single_threaded(df)
                return
            fitted, kept_back = df.iloc[np.flatnonzero(~held)], df.iloc[np.flatnonzero(held)]
            self._fit_single_threaded(fitted)
            self._guard(fitted, kept_back)

    def _guard(self, fitted: pd.DataFrame, held: pd.DataFrame) -> None:
        """The privacy guard's loop (``advsynth.synthesizers.guard``): check the model fitted on
        ``fitted`` against the ``held`` rows it never saw, and lower its capacity one step while a
        test fires: a weaker refinement (``guard.WEAKER_ACCEPTANCE`` of draws kept), then refinement
        off, then the redraw's leaves ``guard.LEAF_GROWTH`` times larger, then k halved (a refit on
        the same rows with k fixed) down to 1, then the redraw off."""
        checks = []
        wide = int(self.redraw_min_leaf) * guard.LEAF_GROWTH
        while True:
            found = guard.check(self, fitted, held, int(self.random_state))
            refined = getattr(self, "ratio_", None) is not None
            checks.append({"k": int(self.n_components_), "refined": refined,
                           "acceptance": round(float(self.acceptance_), 4) if refined else None,
                           "redraw_min_leaf": self.redraw_min_leaf_, **found})
            if not found["fired"]:
                break
            if refined and self.acceptance_ < guard.WEAKER_ACCEPTANCE:
                step = f"refinement keeps {guard.WEAKER_ACCEPTANCE:.0%} of draws"
                self._weaken_refinement(guard.WEAKER_ACCEPTANCE)
            elif refined:
                step = "refinement off"
                self._fit_refinement(fitted, rounds=0)
            elif self.redraw_ is not None and self.redraw_min_leaf_ < wide:
                step = f"redraw leaves of {wide} rows"
                self._fit_redraw(fitted, wide)
            elif self.n_components_ > 1:
                step = f"k {self.n_components_} -> {self.n_components_ // 2}"
                self._fit_single_threaded(fitted, k=self.n_components_ // 2, refine=0, min_leaf=self.redraw_min_leaf_)
            elif self.redraw_ is not None:
                step = "redraw off"
                self.redraw_, self.redraw_columns_ = None, []
            else:
                log.warning("privacy guard: %s still fire at k = 1; the run's privacy adversary will judge",
                            ", ".join(found["fired"]))
                break
            checks[-1]["then"] = step
            log.info("privacy guard: %s fired on %d held-back rows: %s", ", ".join(found["fired"]), len(held), step)
        self.guard_ = {"held_back_rows": int(len(held)), "fitted_rows": int(len(fitted)), "alpha": guard.ALPHA,
                       "checks": checks}

    def _fit_single_threaded(self, df: pd.DataFrame, k: int | None = None, refine: int | None = None,
                             min_leaf: int | None = None) -> None:
        """The whole fit on ``df``; ``k`` fixes the number of components (the sweep's record of a
        previous fit is kept: the privacy guard's smaller k is not a sweep), ``refine`` the rounds
        and ``min_leaf`` the redraw's leaves (defaults: the parameters)."""
        self._check_redraw_columns()
        self._affine_ = None  # the sampling maps of a previous fit
        self.dependencies_ = find_dependencies(df, self.schema_, int(self.random_state)) if self.dependencies else []
        if self.dependencies_:
            log.info("derived columns: %s", ", ".join(f"{d.child} from {d.parent}" for d in self.dependencies_))
        self._fit_redraw(df, min_leaf)
        self.encoder_ = TableEncoder(point_mass_share=self.point_mass_share, match_marginals=bool(self.match_marginals),
                                     marginal_values=self.marginal_values, heap_min_count=int(self.heap_min_count),
                                     random_state=self.random_state).fit(
            df, self.schema_
        )
        rng = np.random.default_rng(self.random_state)
        # Bounded memory: the encoded matrix is at most ``max_encoded_cells`` floats; a larger table
        # is subsampled first (the sweep and the final fit use subsamples anyway).
        max_rows = max(int(self.max_encoded_cells) // max(self.encoder_.n_features_, 1), 2 * (self.fit_rows or 0), 1000)
        if len(df) > max_rows:
            df = df.iloc[np.sort(np.random.default_rng([self.random_state, 1]).choice(len(df), max_rows, replace=False))]
        X = self.encoder_.transform(df)
        variance = None if float(self.pca_variance) >= 1 else float(self.pca_variance)
        self.pca_ = PCA(n_components=variance, svd_solver="full", random_state=self.random_state).fit(X)
        # float32 halves the cost of EM's matrix products; the mixture needs no more precision.
        Z = self.pca_.transform(X).astype(np.float32)
        del X
        subset = _subsample(Z, self.selection_rows, rng)
        # Threads, not processes: numpy's products release the GIL and nothing is copied.
        # Largest k first, so the longest fit does not start last.
        if k is None:
            ks = sorted(self.candidates(len(Z), Z.shape[1]), reverse=True)
            # one candidate (k fixed, e.g. chosen by the detector): nothing to compare, no sweep
            scores = [None] if len(ks) == 1 else Parallel(n_jobs=int(self.n_jobs), prefer="threads")(
                delayed(self._criterion)(c, subset) for c in ks)
            self.selection_ = dict(zip(ks, scores))
            self.swept_k_ = ks[0] if len(ks) == 1 else min(sorted(self.selection_), key=self.selection_.get)
        fit_index = _subsample_index(len(Z), self.fit_rows, rng)
        if k is None:
            best = self.swept_k_
            self.n_components_ = self.grown_k(best, ks, len(subset), len(fit_index), Z.shape[1])
            if self.n_components_ != best:
                log.info("k = %d, the largest swept, is the criterion's best: grown to %d", best, self.n_components_)
        else:
            self.n_components_ = int(k)
        self.mixture_ = self._mixture(self.n_components_, max_iter=self.max_iter, n_threads=int(self.n_jobs)).fit(Z[fit_index])
        self.latent_ = None
        if self.categorical_decoding == "latent":
            self.latent_ = self._fit_latent(df.iloc[fit_index], Z[fit_index])
        if not self.mixture_.converged_:
            log.warning("EM did not converge in %d iterations for k=%d", self.max_iter, self.n_components_)
        self._cholesky_ = _cholesky_factors(self.mixture_)
        # columns the latent classes draw are never decoded from the mixture's coordinates
        drawn = {c for group in (self.latent_.groups if self.latent_ is not None else []) for c in group}
        self.decoded_ = [b.spec.name for b in self.encoder_.blocks_ if b.spec.name not in drawn]
        # the one-hot blocks' level biases, tuned once on rows of this mixture (own seed stream)
        self.encoder_.calibrate(self._draw(CALIBRATION_ROWS, np.random.default_rng([self.random_state, 2]))[0],
                                self.decoded_)
        log.info(
            "PCA kept %d of %d features; %s chose k=%d from %s",
            self.pca_.n_components_, self.encoder_.n_features_, self.criterion, self.n_components_, sorted(self.selection_),
        )
        self._fit_refinement(df, refine)

    def _fit_refinement(self, df: pd.DataFrame, rounds: int | None = None) -> None:
        """``rounds`` (default ``refine``) rounds of density-ratio classifiers on (a bounded subsample
        of) the training rows ``df``, each against draws of the sampler refined by the rounds before it."""
        self.ratio_ = None
        rounds = int(self.refine) if rounds is None else int(rounds)
        if not rounds or len(df) < MIN_REFINE_ROWS:
            if rounds:
                log.info("refinement skipped: %d training rows (fewer than %d)", len(df), MIN_REFINE_ROWS)
            return
        rng = np.random.default_rng([int(self.random_state), 6])
        real = df.iloc[_subsample_index(len(df), REFINE_ROWS, rng)]
        ratio = DensityRatio(self.schema_, seed=int(self.random_state))

        def calibration_pool() -> pd.DataFrame:
            return self.schema_.model_frame(self._modelled_draw(RATIO_CALIBRATION_ROWS, rng))

        # Each round's calibration pool (unrefined draws, after the round's draws in ``rng``'s
        # order) is drawn on the other core while the round's classifier trains on one.
        with ThreadPoolExecutor(max_workers=1) as beside:
            for _ in range(rounds):
                draws = self._modelled_draw(len(real), rng, ratio if ratio.boosters else None)
                pool = beside.submit(calibration_pool)
                ratio.add_round(real, self.schema_.model_frame(draws))
                self.acceptance_ = ratio.calibrate(ratio.log_ratio(pool.result()), float(self.refine_acceptance))
        self.ratio_ = ratio
        log.info("refinement: %s, keeping %.0f %% of draws", ratio.summary(), 100 * self.acceptance_)

    def _weaken_refinement(self, acceptance: float) -> None:
        """The same classifiers with M set anew so that ``acceptance`` of unrefined draws pass: a ratio
        capped lower, so a weaker pull towards the training rows, at fewer draws per kept row."""
        rng = np.random.default_rng([int(self.random_state), 10])
        pool = self.schema_.model_frame(self._modelled_draw(RATIO_CALIBRATION_ROWS, rng))
        self.acceptance_ = self.ratio_.calibrate(self.ratio_.log_ratio(pool), float(acceptance))
        log.info("refinement: keeping %.0f %% of draws", 100 * self.acceptance_)

    def _modelled_draw(self, n: int, rng: np.random.Generator, ratio: DensityRatio | None = None) -> pd.DataFrame:
        """``n`` rows of the modelled columns, typed; kept by ``ratio`` when given."""
        names = [c.name for c in self.schema_.modelled]

        def draw(m: int, r: np.random.Generator) -> pd.DataFrame:
            return self.schema_.reverse(self._sample_raw(m, r), r, columns=names)

        return draw(n, rng) if ratio is None else rejection_sample(draw, ratio, n, self.acceptance_, rng)

    def _sample_typed(self, n: int, rng: np.random.Generator, first_row: int) -> pd.DataFrame:
        """With refinement: the kept draws' modelled columns, then the other columns (identifiers
        numbered from ``first_row``, constants, passthrough) for the rows kept."""
        ratio = getattr(self, "ratio_", None)
        if ratio is None:
            return super()._sample_typed(n, rng, first_row)
        modelled = self._modelled_draw(n, rng, ratio)
        others = [c.name for c in self.schema_.columns if not c.is_modelled]
        rest = self.schema_.reverse(pd.DataFrame(index=pd.RangeIndex(n)), rng, first_row, columns=others)
        return pd.concat([modelled, rest], axis=1)[self.schema_.names]

    def _fit_redraw(self, df: pd.DataFrame, min_leaf: int | None = None) -> None:
        """The conditional models of ``redraw``'s columns given the drawn (not derived) columns, with
        leaves of ``min_leaf`` rows at least (default ``redraw_min_leaf``); ``redraw_columns_`` holds
        the columns redrawn (for "auto", with ``redraw_scores_``)."""
        self.redraw_min_leaf_ = int(self.redraw_min_leaf if min_leaf is None else min_leaf)
        derived = {d.child for d in getattr(self, "dependencies_", [])}
        drawn = [c.name for c in self.schema_.modelled if c.name not in derived]
        rows = _subsample_index(len(df), REDRAW_ROWS, np.random.default_rng([int(self.random_state), 5]))
        self.redraw_scores_ = {}
        if self.redraw == "auto":
            columns, self.redraw_scores_ = predictable_columns(df.iloc[rows], self.schema_, drawn,
                                                               min_samples_leaf=self.redraw_min_leaf_,
                                                               random_state=int(self.random_state))
        else:
            columns = drawn if self.redraw == "all" else [c for c in (self.redraw or []) if c in drawn]
        self.redraw_ = None
        self.redraw_columns_ = columns if len(drawn) > 1 else []
        if self.redraw_columns_:
            self.redraw_ = ConditionalRedraw(columns, drawn, min_samples_leaf=self.redraw_min_leaf_,
                                             heap_min_count=int(self.heap_min_count),
                                             random_state=int(self.random_state)).fit(df.iloc[rows], self.schema_)
        if self.redraw == "auto":
            log.info("redraw auto: %s", self.redraw_columns_ or "no column")

    def refit_redraw(self, df: pd.DataFrame, redraw: list[str] | str | None) -> "GMMSynthesizer":
        """Change ``redraw`` of a fitted generator, fitting only the redraw's trees on ``df`` (the rows
        it was fitted on): the detector-guided search tries columns without refitting the mixture."""
        self.redraw = redraw
        self.check_params()
        self._check_redraw_columns()
        frame = self.schema_.model_frame(df)
        self._fit_redraw(frame)
        self._fit_refinement(frame)  # the sampler changed: its ratio is refitted
        return self

    def refit_refinement(self, df: pd.DataFrame, rounds: int) -> "GMMSynthesizer":
        """Change ``refine`` of a fitted generator, fitting only the ratio's classifiers on ``df`` (the
        rows it was fitted on): the detector-guided search tries refinement strengths this way."""
        self.refine = rounds
        self.check_params()
        self._fit_refinement(self.schema_.model_frame(df))
        return self

    def refinement_summary(self) -> dict | None:
        """The fitted refinement (rounds, trees per round, share of draws kept), for metrics.json; None without one."""
        ratio = getattr(self, "ratio_", None)
        return None if ratio is None else {**ratio.summary(), "acceptance": round(float(self.acceptance_), 4)}

    def _fit_latent(self, df: pd.DataFrame, Z: np.ndarray) -> LatentCategoricals | None:
        """Per-component frequencies of the discrete columns, from the rows the mixture was fitted on."""
        columns = discrete_columns(self.encoder_)
        groups = [g for g in tied_groups(df, columns, tie=float(self.latent_tie))
                  if max(df[c].nunique(dropna=False) for c in g) >= int(self.latent_min_levels)]
        if not groups:
            return None
        log.info("latent-class decoding of %s", groups)
        return LatentCategoricals(groups, prior=float(self.latent_prior)).fit(df, self.mixture_.predict_proba(Z))

    def _criterion(self, k: int, subset: np.ndarray) -> float:
        value = float(getattr(self._mixture(k, max_iter=100).fit(subset), self.criterion)(subset))
        log.debug("k=%d %s=%.1f", k, self.criterion, value)
        return value

    def _draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` encoded rows of the mixture (PCA undone; the features of ``decoded_`` only) and each row's component."""
        # float64 before normalising: float32 weights need not sum to 1 in float64 (multinomial refuses them)
        weights = np.asarray(self.mixture_.weights_, dtype=np.float64)
        weights = weights / weights.sum()
        counts = rng.multinomial(n, weights)
        noise = rng.standard_normal((n, self.mixture_.means_.shape[1]))  # in component order
        order = rng.permutation(n)  # row i is the grouped draw order[i]: rows come out grouped by component otherwise
        X = self._draw_encoded(counts, noise, order)
        return X, np.repeat(np.arange(len(counts)), counts)[order]

    def _sample_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        X, components = self._draw(n, rng)
        out = self.encoder_.inverse_transform(X, rng, getattr(self, "decoded_", None))
        if getattr(self, "latent_", None) is not None:
            for name, values in self.latent_.sample(components, rng).items():
                out[name] = values.astype(float) if self.schema_[name].is_numeric else values
            out = enforce_implied_missing(out, self.encoder_.implied_missing_)
        if getattr(self, "redraw_", None) is not None:
            out = self.redraw_.transform(out, rng, sweeps=int(self.redraw_sweeps))
            out = enforce_implied_missing(out, self.encoder_.implied_missing_)
        if getattr(self, "dependencies_", None):
            out = apply_dependencies(out, self.dependencies_, self.schema_)
        return out

    def _draw_encoded(self, counts: np.ndarray, noise: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """Rows of the mixture, already mapped back from PCA space: grouped row j (the first
        ``counts[0]`` rows from component 0, and so on) is component k's draw from ``noise[j]``;
        with ``order`` row i of the result is grouped row ``order[i]``.

        Component k's draw ``mean_k + e L_k^T`` (e standard normal, L_k its Cholesky factor) and
        PCA's inverse ``z C + m`` are one affine map, ``e (L_k^T C) + (mean_k C + m)``, so each
        row costs one d x p product instead of a d x d and a d x p one, and the noise is one
        ``standard_normal`` call (the same numbers, in the same order, as one call per component:
        the rows are those of the former per-component loop up to rounding). Each component's rows
        are written straight to their shuffled places, so no grouped copy of the matrix is held.
        float64: float32 would halve the products' time, but they are a small part of sampling and
        float32 noise is another random stream. BLAS runs on one thread: on a busy machine OpenBLAS
        threads spin-wait (see ``_fit``), and one thread gives the same sums on any machine.
        """
        maps, offsets = self._affine_maps()
        n = int(counts.sum())
        X = np.empty((n, maps.shape[2]))
        place = np.arange(n)
        if order is not None:
            place[order] = np.arange(n)  # grouped row j goes to row place[j]
        bounds = np.concatenate([[0], np.cumsum(counts)])
        with threadpool_limits(1, user_api="blas"):
            for k in np.flatnonzero(counts):  # k <= max_components products, each over all of its rows
                lo, hi = bounds[k], bounds[k + 1]
                block = noise[lo:hi] @ maps[k]
                block += offsets[k]
                X[place[lo:hi]] = block
        return X

    def _affine_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Per component, the (d, p) matrix ``L_k^T C`` and the p-vector ``mean_k C + m`` of ``_draw_encoded``
        (computed once per fit)."""
        cached = getattr(self, "_affine_", None)
        if cached is None:
            pca = self.pca_
            C = np.asarray(pca.components_, dtype=np.float64)
            if getattr(pca, "whiten", False):
                C = np.sqrt(pca.explained_variance_)[:, None] * C
            keep = self.encoder_.feature_index(getattr(self, "decoded_", None))  # the decoded columns' features
            C = C[:, keep]
            maps = np.einsum("kji,jp->kip", self._cholesky_, C)  # L_k^T C
            offsets = np.asarray(self.mixture_.means_, dtype=np.float64) @ C + pca.mean_[keep]
            cached = self._affine_ = (maps, offsets)
        return cached


def _subsample(Z: np.ndarray, rows: int | None, rng: np.random.Generator) -> np.ndarray:
    return Z[_subsample_index(len(Z), rows, rng)]


def _subsample_index(n: int, rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if rows is None or n <= rows:
        return np.arange(n)
    return np.sort(rng.choice(n, int(rows), replace=False))


def _cholesky_factors(mixture: BlockedGaussianMixture) -> np.ndarray:
    """Lower Cholesky factor of every component's covariance, whatever the covariance type."""
    k, d = mixture.means_.shape
    cov = mixture.covariances_
    if mixture.covariance_type == "full":
        full = cov
    elif mixture.covariance_type == "tied":
        full = np.broadcast_to(cov, (k, d, d))
    elif mixture.covariance_type == "diag":
        full = np.stack([np.diag(c) for c in cov])
    else:
        full = np.stack([np.eye(d) * c for c in cov])
    return np.linalg.cholesky(np.asarray(full, dtype=np.float64))

"""scikit-learn's Gaussian mixture, its EM steps spread over threads by blocks of components.

Why: with full covariances, scikit-learn's E-step (each component's log density) and M-step
(each component's moments) are loops of one matrix product per component. The GMM keeps BLAS
on one thread (its threads spin-wait on products this small), so that loop held one core of
two for most of a fit. Every component's log density and moments depend on that component
alone, so blocks of components can be computed on separate threads; the blocks are fixed
(``COMPONENT_BLOCK`` components each, in order), and threads only schedule them, so the fitted
mixture is the same for any number of threads. It can differ from the unblocked loop in the
last bits of a float (a matrix product over fewer components may sum in another order);
``tests/test_generators.py`` states the tolerance.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import (
    _compute_precision_cholesky,
    _estimate_gaussian_parameters,
    _estimate_log_gaussian_prob,
)
from sklearn.utils._param_validation import Interval

COMPONENT_BLOCK = 8  # components per block: 15 blocks at k = 120, enough to balance two threads


class BlockedGaussianMixture(GaussianMixture):
    """``GaussianMixture`` plus ``n_threads``: the threads its full-covariance EM steps use.

    Other covariance types, and a mixture given ``precisions_init``, run scikit-learn's steps
    unchanged.
    """

    _parameter_constraints: dict = {**GaussianMixture._parameter_constraints,
                                    "n_threads": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6, max_iter=100, n_init=1,
                 init_params="kmeans", weights_init=None, means_init=None, precisions_init=None, random_state=None,
                 warm_start=False, verbose=0, verbose_interval=10, n_threads=1):
        super().__init__(n_components=n_components, covariance_type=covariance_type, tol=tol, reg_covar=reg_covar,
                         max_iter=max_iter, n_init=n_init, init_params=init_params, weights_init=weights_init,
                         means_init=means_init, precisions_init=precisions_init, random_state=random_state,
                         warm_start=warm_start, verbose=verbose, verbose_interval=verbose_interval)
        self.n_threads = n_threads

    def _blocked(self) -> bool:
        return self.covariance_type == "full" and self.precisions_init is None

    def _by_block(self, step, n_components: int) -> list:
        blocks = [slice(a, min(a + COMPONENT_BLOCK, n_components)) for a in range(0, n_components, COMPONENT_BLOCK)]
        if int(self.n_threads) == 1 or len(blocks) == 1:
            return [step(b) for b in blocks]
        with ThreadPoolExecutor(max_workers=min(int(self.n_threads), len(blocks))) as pool:
            return list(pool.map(step, blocks))

    def _estimate_log_prob(self, X, xp=None):
        if not self._blocked():
            return super()._estimate_log_prob(X, xp=xp)
        parts = self._by_block(lambda b: _estimate_log_gaussian_prob(X, self.means_[b], self.precisions_cholesky_[b],
                                                                     "full"), len(self.means_))
        return np.concatenate(parts, axis=1)

    def _m_step(self, X, log_resp, xp=None):
        if not self._blocked():
            return super()._m_step(X, log_resp, xp=xp)
        resp = np.exp(log_resp)

        def step(b):
            nk, means, covariances = _estimate_gaussian_parameters(X, resp[:, b], self.reg_covar, "full")
            return nk, means, covariances, _compute_precision_cholesky(covariances, "full")

        parts = self._by_block(step, resp.shape[1])
        weights, self.means_, self.covariances_, self.precisions_cholesky_ = (
            np.concatenate([p[i] for p in parts]) for i in range(4))
        self.weights_ = weights / np.sum(weights)

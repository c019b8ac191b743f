"""The judging stages a run is made of, beyond the detector's own (``advsynth.detection``).

What the printed verdict measures: ``verdict`` is the classifier two-sample test of
``advsynth.detection.detect`` (balance the classes, features, stratified train / validation /
test split, XGBoost, held-out ROC-AUC with its DeLong interval, giveaways) of all real rows
against the synthetic rows, with the real-vs-real null beside it. ``holdout_only_auc`` is the
same test with the real rows limited to the holdout; the privacy adversary and the extras
(``advsynth.metrics.evaluate``) judge against the same holdout. ``advsynth run``,
``advsynth evaluate``, the bench, the containers and the adversarial search call these, so a
figure means the same thing whichever door printed it (``advsynth.experiment.trace`` records
which stages ran; a test compares the doors).
"""

from __future__ import annotations

import pandas as pd

from ..detection import MIN_ROWS_PER_CLASS, DetectionResult, balance_indices, detect, null_on_real
from ..protocol import DetectorConfig
from .trace import stage

METRICS_SCHEMA_VERSION = 2  # metrics.json's layout; 2: the stages' layout, with this field

# what metrics.json's ``not_judged`` says when the extras were switched off (run and evaluate alike)
NO_EXTRAS = {"fidelity, privacy, utility": "--no-extras skips them", "holdout-only AUC": "--no-extras skips them"}
# and when ``advsynth evaluate`` has no holdout: the generator's training rows are unknown
NO_HOLDOUT = {
    "privacy": "no --holdout: the privacy adversary needs real rows the generator never saw (non-members) "
               "beside --real's (members)",
    "utility": "no --holdout: TSTR tests on real rows the generator never saw",
    "holdout-only AUC": "no --holdout",
}


def verdict(real: pd.DataFrame, synthetic: pd.DataFrame, detector: DetectorConfig, schema, seed: int, *,
            null=None, nthread: int | None = None) -> DetectionResult:
    """The detector's verdict on ``synthetic`` against every real row, with the real-vs-real null
    when ``detector.null`` asks for it. ``null``: a precomputed one (``null_on_real``'s
    ``(auc, ci, (y, scores))``, e.g. once per dataset and seed by the bench), or a function
    returning it, called once the detector is done (a null trained alongside the fit);
    without it the null is trained here."""
    result = detect(real, synthetic, detector, schema=schema, seed=seed, null=False, nthread=nthread)
    if detector.null:
        if callable(null):
            null = null()
        result.with_null(*(null if null is not None else null_on_real(real, detector, schema=schema, seed=seed,
                                                                        nthread=nthread)))
    return result


def detector_rows(synthetic: pd.DataFrame, n_real: int, n_rows: int, seed: int, max_rows: int) -> pd.DataFrame:
    """The synthetic rows the detector uses (``detection.balance``'s pick of an ``n_rows`` table),
    also those the privacy adversary judges: the pipeline's evaluation step holds these rows and
    no others, so both doors judge the same ones. ``synthetic`` is the whole table, or already
    that pick (a streamed table keeps only these rows)."""
    keep = balance_indices(n_real, n_rows, seed, max_rows)[1]
    if keep is None or len(synthetic) < n_rows:
        return synthetic
    return synthetic.iloc[keep]


@stage("holdout_only")
def holdout_only_auc(holdout: pd.DataFrame, synthetic: pd.DataFrame, detector: DetectorConfig, schema,
                     seed: int) -> dict:
    """The same detector protocol with its real rows restricted to the holdout, which no fit has seen.

    Why: the verdict's real rows include the generator's training rows, split across the
    detector's train and test sets. A generator whose draws sit on (or next to) training rows
    has "twins" on both sides of that split, which a tree with fine thresholds reads as real,
    so the all-rows AUC can flatter it (down to below chance). Holdout rows have no twins; the
    cost is fewer rows, so a weaker detector. One more detector fit, without CV or null.
    """
    info = {"is": "the run's detector with its real rows restricted to the holdout (never seen by the generator); "
                  "fewer rows than the verdict's, so weaker; an all-rows AUC well below it means the synthetic rows "
                  "mirror training rows", "n_holdout": int(len(holdout))}
    if len(holdout) < MIN_ROWS_PER_CLASS:
        return {**info, "roc_auc": None, "roc_auc_ci": None, "skipped": f"holdout has {len(holdout)} rows"}
    result = detect(holdout, synthetic, detector.replace(cv=0), schema=schema, seed=seed, null=False)
    return {**info, "roc_auc": result.roc_auc, "roc_auc_ci": list(result.roc_auc_ci),
            "rows_per_class": result.rows_per_class}


def generator_fit(gen) -> dict | None:
    """What the GMM's fit chose (k, PCA dimensions, the criterion by k, the redrawn columns, the refinement), for metrics.json; None for other generators."""
    if not hasattr(gen, "n_components_"):
        return None
    guard = getattr(gen, "guard_", None)
    fitted = guard["checks"][0]["k"] if guard else int(gen.n_components_)  # the k before the privacy guard's steps
    return {
        "n_components": int(gen.n_components_),
        # the criterion's k (grown when at the edge); n_components differs only when the privacy guard halved it
        "k_chosen": int(fitted),
        "pca_components": int(gen.pca_.n_components_),
        "criterion": gen.criterion,
        "criterion_by_k": {str(k): v for k, v in sorted(gen.selection_.items())},
        "k_at_edge": k_at_edge(fitted, gen.selection_),
        # the sweep's best when k grew past the swept range (GMMSynthesizer.grown_k), else None
        "k_grown_from": int(gen.swept_k_) if getattr(gen, "swept_k_", fitted) != fitted else None,
        "redraw": list(getattr(gen, "redraw_columns_", [])),
        "redraw_scores": dict(getattr(gen, "redraw_scores_", {})),
        "refinement": gen.refinement_summary(),
        "privacy_guard": getattr(gen, "guard_", None),
    }


def chosen_k(fit: dict) -> int | None:
    """The k the GMM's criterion chose, read from metrics.json's ``generator_fit`` (what the CLI
    summary and the report name); run folders written before ``k_chosen`` had no guard to differ."""
    return fit.get("k_chosen", fit.get("n_components"))


def k_at_edge(chosen: int, selection: dict) -> str | None:
    """"min" or "max" when the chosen number of components is the smallest or largest k swept
    (the criterion might keep improving beyond the range: widen it), else None."""
    ks = sorted(int(k) for k in selection)
    if len(ks) < 2:
        return None
    return "min" if int(chosen) == ks[0] else "max" if int(chosen) == ks[-1] else None

"""Human-readable reports: one self-contained HTML page per run, and one per benchmark.

``write_report(run_dir)`` writes ``run_dir/report.html``: every chart is a base64 PNG
inside the page (matplotlib, Agg backend), so the file can be mailed or archived alone.
Sections: the verdict in words, the detector's ROC curve against the real-vs-real null
curve, column importance (which columns give the fakes away), real vs synthetic
marginals of the top-3 giveaway columns, the correlation-difference heatmap, privacy
and utility figures, and the run's config and metrics.

Inputs read from the run folder: ``metrics.json``, ``schema.json``, ``synthetic.csv``;
``scores.csv`` (held-out detector scores: columns ``model`` in {detector, real_vs_real}, ``y``,
``score``) when the run saved it; the real table through ``config.json``, or passed as ``real=``. Without saved scores the ROC
curves are recomputed with ``advsynth.detection``'s pieces and the run's seed and
detector settings (same protocol, same numbers, one extra detector training). A section
whose inputs are missing says so instead of failing.

Needs matplotlib (``pip install 'advsynth[report]'``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AdvsynthError

log = logging.getLogger(__name__)

REAL_COLOUR, SYNTH_COLOUR, NULL_COLOUR = "#1f77b4", "#d62728", "#7f7f7f"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.verdict{font-size:1.1em;background:#f6f8fa;padding:.8em 1em;border-left:4px solid #888}
.note{color:#666;font-size:.92em}img{max-width:100%;height:auto}pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em}
.grid{display:flex;flex-wrap:wrap;gap:1em}.grid img{max-width:32%}
"""


class ReportError(AdvsynthError):
    """A report cannot be written from this folder."""


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise ReportError("reports need matplotlib: pip install 'advsynth[report]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{b64}" alt="{html.escape(alt)}">'


def _table(rows: list[tuple], header: tuple | None = None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e3 else f"{v:,.0f}"
    return str(v)


def _first_number(*values) -> float:
    """The first value that is a number (0 if none): an error bar's half width."""
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return 0.0


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# --------------------------------------------------------------------------- inputs


def _read_json(path: Path) -> dict | None:
    """The JSON object in ``path`` (None when absent); a truncated or foreign file is a ReportError."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ReportError(f"{path} is not valid JSON ({err}); was the run interrupted?") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def _read_scores(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``scores.csv`` as {model: (y, score)}; a broken file is a ReportError naming it."""
    try:
        saved = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ReportError(f"{path} cannot be read as a CSV: {str(err).strip().splitlines()[0]}") from None
    missing = [c for c in ("model", "y", "score") if c not in saved.columns]
    if missing:
        raise ReportError(f"{path} lacks column(s) {', '.join(missing)} (expected model, y, score)")
    y, score = (pd.to_numeric(saved[c], errors="coerce") for c in ("y", "score"))
    bad = int((y.isna() | score.isna() | ~y.isin([0, 1])).sum())
    if bad:
        raise ReportError(f"{path} has {bad} row(s) whose y is not 0/1 or whose score is not a number")
    return {str(m): (y[g.index].to_numpy(int), score[g.index].to_numpy(float)) for m, g in saved.groupby("model")}


def _bench_variant(run_dir: Path) -> str | None:
    """The generator variant (e.g. gmm_bic) of a benchmark's run folder, from the benchmark's
    results.csv (the benchmark never writes into its runs' folders)."""
    results = run_dir.parent.parent / "results.csv"
    if run_dir.parent.name != "runs" or not results.is_file():
        return None
    try:
        table = pd.read_csv(results, usecols=["generator", "run_dir"])
    except (ValueError, pd.errors.ParserError):
        return None
    match = table.loc[table["run_dir"].astype(str) == f"runs/{run_dir.name}", "generator"]
    return str(match.iloc[0]) if len(match) else None


def _run_split(real: pd.DataFrame, run_config: dict | None, seed: int):
    """The (train, holdout) split the run fitted its generator on: ``split_real`` with the run's own
    seed and holdout share (config.json), so recomputed privacy/utility never compare against rows
    the generator trained on."""
    from .config import RunConfig
    from .metrics.evaluate import split_real

    holdout = (run_config or {}).get("holdout")
    if holdout is None:
        holdout = RunConfig.__dataclass_fields__["holdout"].default
        log.warning("the run's config.json names no holdout share; assuming the default %s", holdout)
    return split_real(real, seed, float(holdout))


def _load_real(run_dir: Path) -> pd.DataFrame | None:
    """The real table of a run, through its saved config.json."""
    from .config import DataConfig, RunConfig
    from .run import load_real

    saved = _read_json(run_dir / "config.json")
    if saved and isinstance(saved.get("data"), dict):
        try:
            return load_real(RunConfig(data=DataConfig(**saved["data"])))
        except (AdvsynthError, TypeError) as err:
            log.warning("cannot read the real table of %s: %s", run_dir, err)
    return None


def detector_scores(real: pd.DataFrame, synthetic: pd.DataFrame, schema, detector: dict, seed: int,
                    null: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Held-out (y, score) of the detector and of the real-vs-real null, rerun with ``detect``'s seed
    (for run folders written before runs saved ``scores.csv``); ``detector`` is the run's detector config."""
    from .detection import detect
    from .protocol import DetectorConfig

    # one thread: same trees as any thread count (hist), and no OpenMP spin-wait on a busy machine
    return detect(real, synthetic, DetectorConfig.coerce(detector), schema=schema, seed=seed, null=null,
                  nthread=1).scores


def _roc_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, s)
    return fpr, tpr, float(roc_auc_score(y, s))


# --------------------------------------------------------------------------- charts


def _chart_roc(scores: dict) -> tuple[str, list[str]]:
    """The ROC chart and the legend labels of the curves drawn (the page repeats them as text)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    labels = []
    for name, colour, style in (("detector", SYNTH_COLOUR, "-"), ("real_vs_real", NULL_COLOUR, "--")):
        if name in scores:
            fpr, tpr, auc = _roc_points(*scores[name])
            label = "detector: real vs synthetic" if name == "detector" else "null: real vs real"
            labels.append(f"{label} (AUC {auc:.3f})")
            ax.plot(fpr, tpr, style, color=colour, lw=2, label=labels[-1])
    ax.plot([0, 1], [0, 1], ":", color="black", lw=1, label="chance (AUC 0.5)")
    ax.set(xlabel="false positive rate (real rows flagged as synthetic)", ylabel="true positive rate (synthetic rows caught)",
           title="Detector ROC on held-out rows", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig), labels


def _chart_importance(importance: dict, top: int = 15) -> str:
    plt = _plt()
    items = sorted(importance.items(), key=lambda kv: -kv[1])[:top][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v for _, v in items], color=SYNTH_COLOUR)
    ax.set(xlabel="share of the detector's total gain", title="Which columns give the fakes away")
    return _png(fig)


def _plot_numbers(col: pd.Series) -> np.ndarray:
    """Values on a histogram's x axis: numbers, or matplotlib date numbers for dates."""
    if pd.api.types.is_datetime64_any_dtype(col):
        from matplotlib.dates import date2num

        return np.asarray(date2num(col.dropna()), dtype=float)
    return pd.to_numeric(col, errors="coerce").dropna().to_numpy(float)


def _chart_marginal(real: pd.Series, synthetic: pd.Series, numeric: bool, name: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 3.3))
    dates = pd.api.types.is_datetime64_any_dtype(real)
    if numeric:
        r, s = (_plot_numbers(col) for col in (real, synthetic))
        both = np.concatenate([r, s])
        lo, hi = (np.quantile(both, [0.005, 0.995]) if both.size else (0, 1))
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 31)
        ax.hist(np.clip(r, lo, hi), bins=bins, density=True, alpha=0.5, color=REAL_COLOUR, label="real")
        ax.hist(np.clip(s, lo, hi), bins=bins, density=True, alpha=0.5, color=SYNTH_COLOUR, label="synthetic")
        ax.set_ylabel("density")
        if dates:
            ax.xaxis_date()
            fig.autofmt_xdate()
    else:
        rk, sk = real.astype(str).where(real.notna(), "(missing)"), synthetic.astype(str).where(synthetic.notna(), "(missing)")
        rf, sf = rk.value_counts(normalize=True), sk.value_counts(normalize=True)
        levels = list(rf.index[:12])
        x = np.arange(len(levels))
        ax.bar(x - 0.2, [rf.get(l, 0) for l in levels], 0.4, color=REAL_COLOUR, label="real")
        ax.bar(x + 0.2, [sf.get(l, 0) for l in levels], 0.4, color=SYNTH_COLOUR, label="synthetic")
        ax.set_xticks(x, [l[:14] for l in levels], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("share of rows")
    ax.set_title(name)
    ax.legend(fontsize=8)
    return _png(fig)


def _chart_corr_diff(corr: dict) -> str | None:
    cols = corr.get("columns") or []
    if len(cols) < 2:
        return None
    plt = _plt()
    diff = np.array([[np.nan if v is None else v for v in row] for row in corr["abs_diff"]], float)
    size = max(4.0, 0.4 * len(cols) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(diff, cmap="Reds", vmin=0, vmax=max(0.2, float(np.nanmax(diff)) if np.isfinite(diff).any() else 1))
    labels = [str(c)[:16] for c in cols]
    ax.set_xticks(range(len(cols)), labels, rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(len(cols)), labels, fontsize=7)
    fig.colorbar(im, ax=ax, label="|Spearman real − Spearman synthetic|")
    ax.set_title("Correlation difference (numeric columns)")
    return _png(fig)


# --------------------------------------------------------------------------- run report


def holdout_only_line(metrics: dict) -> str:
    """The holdout-only AUC beside the verdict, or why there is none (one wording for summary and report)."""
    only = metrics.get("holdout_only")
    if not only:
        why = next((v for k, v in (metrics.get("not_judged") or {}).items() if "holdout-only" in k), "--no-extras")
        return f"holdout-only AUC: not computed ({why})"
    if only.get("roc_auc") is None:
        return f"holdout-only AUC: not computed ({only.get('skipped')})"
    lo, hi = only["roc_auc_ci"]
    return (f"holdout-only AUC {only['roc_auc']:.3f} (95% CI {lo:.3f}-{hi:.3f}): the same detector with its real rows "
            f"limited to the {only['n_holdout']:,} holdout rows the generator never saw (weaker for having fewer rows; "
            "a verdict well below it means the synthetic rows mirror the training rows)")


def _verdict(det: dict) -> str:
    auc, (lo, hi) = det["roc_auc"], det["roc_auc_ci"]
    null = det.get("null_roc_auc")
    if lo <= 0.5 <= hi or (null is not None and null >= lo):
        words = "the detector cannot reliably tell the synthetic rows from real ones"
    elif auc < 0.7:
        words = "the detector separates the synthetic rows a little: they are close but not indistinguishable"
    elif auc < 0.9:
        words = "the detector separates the synthetic rows clearly"
    else:
        words = "the synthetic rows are trivially detected"
    p = det["p_value"]
    p_text = "p < 1e-300" if p == 0 else f"p = {p:.2g}"
    return (f"Detector ROC-AUC <b>{auc:.3f}</b> (95 % CI {lo:.3f}–{hi:.3f}, {p_text})"
            + (f", real-vs-real null {null:.3f}" if null is not None else "") + f": {words}.")


GIVEAWAY_ROWS_SHOWN = 10


def _giveaway_tables(giveaways: dict) -> list[str]:
    """Per giveaway column, the levels or value ranges most over- or under-represented, and the
    held-out synthetic rows the detector is surest are fake (never real rows)."""
    body = []
    for column, entries in (giveaways.get("levels") or {}).items():
        if not entries:
            continue
        label = "range" if "range" in entries[0] else "level"
        rows = [(e.get(label), e.get("real_share"), e.get("synthetic_share"), e.get("difference")) for e in entries]
        body.append(_table(rows, (f"{column}: {label}", "real share", "synthetic share", "synthetic − real")))
    if body:
        body.append("<p class=note>Where the synthetic shares differ most from the real ones, for the detector's top "
                    "columns: a positive difference is over-produced by the generator, a negative one missed.</p>")
    fakes = (giveaways.get("rows") or [])[:GIVEAWAY_ROWS_SHOWN]
    if fakes:
        columns = list(fakes[0].get("row", {}))
        body.append(_table([(f"{r['score']:.3f}", *[r["row"].get(c) for c in columns]) for r in fakes],
                           ("detector score", *columns)))
        body.append(f"<p class=note>The {len(fakes)} held-out synthetic rows the detector is surest are fake "
                    "(score = its probability that the row is synthetic).</p>")
    return body


def _k_at_edge_note(metrics: dict) -> str | None:
    """A warning when the GMM's chosen number of components is the smallest or largest one swept."""
    fit = metrics.get("generator_fit") or {}
    edge = fit.get("k_at_edge")
    if not edge:
        return None
    ks = sorted(int(k) for k in (fit.get("criterion_by_k") or {}))
    swept = f" (swept {ks[0]}–{ks[-1]})" if ks else ""
    bound = "max_components" if edge == "max" else "min_components"
    return (f"<p class=note><b>k at the edge:</b> the GMM chose k = {fit.get('n_components')}, the "
            f"{'largest' if edge == 'max' else 'smallest'} number of components swept{html.escape(swept)}; the "
            f"{html.escape(str(fit.get('criterion', 'criterion')).upper())} might keep improving beyond it. "
            f"Widen {bound} and compare.</p>")


def _privacy_utility_tables(metrics: dict) -> list[str]:
    body = []
    priv = metrics.get("privacy")
    if priv:
        dcr = priv["dcr"]
        body.append(_table([
            ("exact copies of training rows (synthetic)", priv["exact_match_rate"]),
            ("same rate for unseen real rows (chance level)", priv["holdout_exact_match_rate"]),
            ("DCR median, synthetic → train", dcr["synthetic_median"]),
            ("DCR median, holdout → train", dcr["holdout_median"]),
            ("DCR ratio (≈1 healthy, ≪1 memorising)", dcr["ratio_median"]),
            ("DCR share for equal-size reference sets (50 % expected)", dcr.get("share_equal_size")),
            ("membership attack ROC-AUC, distance (0.5: nothing leaks)",
             ((priv.get("membership") or {}).get("attacks") or {}).get("distance", {}).get("roc_auc")),
            ("flagged by the privacy adversary", str(bool(priv.get("flagged")))),
        ], ("privacy", "value")))
    util = (metrics.get("utility") or {}).get("tstr") if metrics.get("utility") else None
    if util:
        if util["task"] == "classification":
            rows = [("TRTR AUC (train real, test real)", (util["trtr"] or {}).get("auc")),
                    ("TSTR AUC (train synthetic, test real)", (util["tstr"] or {}).get("auc")),
                    ("AUC gap (utility lost)", util.get("auc_gap")),
                    ("TRTR accuracy", (util["trtr"] or {}).get("accuracy")),
                    ("TSTR accuracy", (util["tstr"] or {}).get("accuracy"))]
        else:
            rows = [("TRTR R²", (util["trtr"] or {}).get("r2")), ("TSTR R²", (util["tstr"] or {}).get("r2")),
                    ("R² gap", util.get("r2_gap"))]
        body.append(_table(rows, (f"utility: predicting '{util['target']}'", "value")))
        if util.get("tstr_skipped_reason"):
            body.append(f"<p class=note>TSTR skipped: {html.escape(util['tstr_skipped_reason'])}</p>")
    fid = (metrics.get("fidelity") or {}).get("summary")
    if fid:
        body.append(_table([(k.replace("_", " "), v) for k, v in fid.items()], ("fidelity summary", "value")))
    return body


def write_report(run_dir: str | Path, real: pd.DataFrame | None = None) -> Path:
    """Write ``run_dir/report.html`` (self-contained) and return its path."""
    from .io import read_table
    from .schema import Schema

    run_dir = Path(run_dir)
    metrics = _read_json(run_dir / "metrics.json")
    if metrics is None:
        raise ReportError(f"not a run folder (no metrics.json): {run_dir}")
    for key in ("detector", "n_real", "n_synthetic", "generator"):
        if key not in metrics:
            raise ReportError(f"{run_dir / 'metrics.json'} lacks '{key}': not a metrics file advsynth wrote")
    schema_raw = _read_json(run_dir / "schema.json")
    synthetic_path = next((p for p in (run_dir / "synthetic.csv", run_dir / "synthetic.parquet") if p.exists()), None)
    if schema_raw is None or synthetic_path is None:
        raise ReportError(f"run folder {run_dir} lacks schema.json or synthetic.csv (or synthetic.parquet)")
    schema = Schema.from_dict(schema_raw)
    synthetic = read_table(synthetic_path)  # as a run reads tables: ISO dates become dates
    for spec in schema.columns:  # as the generator returned them: categorical values are objects, not parsed numbers
        if not spec.is_numeric and spec.name in synthetic.columns:
            synthetic[spec.name] = synthetic[spec.name].astype(object).where(synthetic[spec.name].notna(), None)
    if real is None:
        real = _load_real(run_dir)
    if real is not None and list(real.columns) != list(synthetic.columns):
        log.warning("the real table's columns differ from synthetic.csv; sections needing it are skipped")
        real = None
    det = metrics["detector"]
    run_config = _read_json(run_dir / "config.json")
    seed = int(metrics.get("seed", 0))
    variant = metrics.get("generator_variant") or _bench_variant(run_dir) or metrics["generator"]
    title = f"{variant} on {metrics.get('name', run_dir.name)} (seed {seed})"
    body = [f"<h1>Adversarial evaluation: {html.escape(title)}</h1>",
            f"<p class=verdict>{_verdict(det)}</p>",
            f"<p class=note>{metrics['n_synthetic']:,} synthetic rows vs {metrics['n_real']:,} real; "
            f"detector trained on {det['n_train']:,} rows and scored on {det['n_test']:,} held-out rows. "
            "AUC 0.5 means the detector does no better than chance; 1.0 means every fake is caught.</p>"]
    body.append(f"<p class=note>{html.escape(holdout_only_line(metrics))}.</p>")
    edge_note = _k_at_edge_note(metrics)
    if edge_note:
        body.append(edge_note)

    # ROC
    body.append("<h2>Detector ROC curve</h2>")
    scores = None
    if (run_dir / "scores.csv").exists():
        scores = _read_scores(run_dir / "scores.csv")
    elif real is not None:
        detector_cfg = det.get("config") or (run_config or {}).get("detector") or {}
        null = not ("null_roc_auc" in det and det["null_roc_auc"] is None) and detector_cfg.get("null", True)
        scores = detector_scores(real, synthetic, schema, detector_cfg, seed, null=null)
        recomputed = _roc_points(*scores["detector"])[2]
        if abs(recomputed - det["roc_auc"]) > 1e-6:
            body.append(f"<p class=note>Recomputed from synthetic.csv: AUC {recomputed:.4f} vs {det['roc_auc']:.4f} in "
                        "metrics.json (the run saved no scores.csv; floating-point differences in the CSV round trip).</p>")
    if scores:
        png, curves = _chart_roc(scores)
        body.append(_img(png, "ROC curves: " + "; ".join(curves)))
        body.append("<p class=note>The red curve is the detector on held-out real and synthetic rows; the grey dashed "
                    "curve is the same detector protocol on two halves of the real table (what 'nothing to find' looks "
                    "like). The closer the red curve is to the grey one, the better the synthetic data.</p>")
    else:
        body.append("<p class=note>Unavailable: the run saved no scores.csv and its real table is unknown.</p>")

    # importance
    body.append("<h2>Column importance</h2>")
    body.append(_img(_chart_importance(det["column_importance"]), "column importance bar chart"))
    body.append("<p class=note>Share of the detector's total split gain per original column (one-hot levels summed): "
                "the columns the generator reproduces worst.</p>")

    # marginals
    body.append("<h2>Real vs synthetic: top giveaway columns</h2>")
    top = [c for c, _ in sorted(det["column_importance"].items(), key=lambda kv: -kv[1])[:3]]
    if real is not None and top:
        kinds = {c.name: c.is_numeric for c in schema.columns}
        imgs = [_img(_chart_marginal(real[c], synthetic[c], kinds.get(c, False), c), f"marginal of {c}") for c in top]
        body.append("<div class=grid>" + "".join(imgs) + "</div>")
    else:
        body.append("<p class=note>Unavailable: the run's real table is unknown.</p>")

    # giveaways (metrics.json carries them from runs of this detector protocol on)
    if det.get("giveaways"):
        body.append("<h2>Which levels and rows give the fakes away</h2>")
        body += _giveaway_tables(det["giveaways"])

    # correlations, privacy, utility
    numeric = [c.name for c in schema.columns if c.is_numeric and not c.id_like]
    categorical = [c.name for c in schema.columns if not c.is_numeric and not c.id_like]
    extras_metrics = dict(metrics)
    if real is not None and not metrics.get("fidelity"):
        from .metrics.evaluate import evaluate_extras

        target = (run_config or {}).get("target")
        extras = evaluate_extras(real, synthetic, schema, target if target in numeric + categorical else None, seed,
                                 split=_run_split(real, run_config, seed))
        extras_metrics.update({k: extras[k] for k in ("fidelity", "privacy", "utility")})
    body.append("<h2>Correlation difference</h2>")
    corr = (extras_metrics.get("fidelity") or {}).get("correlation")
    chart = _chart_corr_diff(corr) if corr else None
    if chart:
        body.append(_img(chart, "correlation difference heatmap"))
        body.append("<p class=note>Absolute difference between the real and synthetic Spearman correlation of each "
                    "pair of numeric columns: dark cells are relations the generator lost or invented.</p>")
    else:
        body.append(f"<p class=note>Unavailable: {'fewer than 2 numeric columns' if real is not None else 'the real table is unknown'}.</p>")
    body.append("<h2>Privacy and utility</h2>")
    tables = _privacy_utility_tables(extras_metrics)
    body += tables or ["<p class=note>Unavailable: no privacy/utility figures in metrics.json and the real table is unknown.</p>"]

    body.append("<h2>Run configuration and metrics</h2>")
    if run_config:
        body.append("<h3>Configuration</h3><pre>" + html.escape(json.dumps(run_config, indent=2, default=str)) + "</pre>")
    light = {k: v for k, v in metrics.items() if k not in ("fidelity", "privacy", "utility")}
    body.append("<h3>metrics.json</h3><pre>" + html.escape(json.dumps(light, indent=2, default=str)) + "</pre>")
    out = run_dir / "report.html"
    from .io import write_text_atomic

    write_text_atomic(out, _page(f"advsynth report: {title}", body))
    return out


# --------------------------------------------------------------------------- comparison


def write_comparison(bench_dir: str | Path) -> Path:
    """Write ``bench_dir/comparison.html``: generators side by side for every dataset of a benchmark."""
    from .bench import summarise

    bench_dir = Path(bench_dir)
    if not (bench_dir / "results.csv").exists():
        raise ReportError(f"not a benchmark folder (no results.csv): {bench_dir}")
    try:
        results = pd.read_csv(bench_dir / "results.csv")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ReportError(f"{bench_dir / 'results.csv'} cannot be read as a CSV: {str(err).strip().splitlines()[0]}") from None
    if results.empty:
        raise ReportError(f"benchmark {bench_dir} has no finished runs")
    info = _read_json(bench_dir / "benchmark.json") or {}
    summary = summarise(results)
    plt = _plt()
    datasets = list(dict.fromkeys(summary["dataset"]))
    generators = list(dict.fromkeys(summary["generator"]))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(datasets) + 2), 4))
    width = 0.8 / max(1, len(generators))
    for j, gen in enumerate(generators):
        sub = summary[summary["generator"] == gen].set_index("dataset")
        xs = [i + (j - (len(generators) - 1) / 2) * width for i, d in enumerate(datasets) if d in sub.index]
        ys = [sub.loc[d, "auc_mean"] for d in datasets if d in sub.index]
        # the seeds' t-interval where there are several seeds, else the run's DeLong interval
        err = [_first_number(sub.loc[d, "auc_t_pm"], sub.loc[d, "delong_pm"]) for d in datasets if d in sub.index]
        ax.bar(xs, ys, width, yerr=err, capsize=3, color=colours[j % len(colours)], label=gen)
    for i, d in enumerate(datasets):
        null = summary.loc[summary["dataset"] == d, "null_mean"].mean()
        if pd.notna(null):
            ax.hlines(null, i - 0.45, i + 0.45, colors="black", linestyles="--", lw=1,
                      label="null (real vs real)" if i == 0 else None)
    ax.axhline(0.5, color=NULL_COLOUR, lw=0.8, ls=":")
    ax.set_xticks(range(len(datasets)), datasets)
    ax.set(ylabel="detector ROC-AUC (lower is better)", ylim=(0, 1.05),
           title="Detector AUC: mean ± 95 % interval over seeds (one seed: DeLong)")
    ax.legend(fontsize=8, loc="lower right")
    auc_png = _png(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, col, label in ((axes[0], "fit_s", "fit time per run (s)"), (axes[1], "rows_per_s", "sampling rows / s")):
        for j, gen in enumerate(generators):
            sub = summary[summary["generator"] == gen].set_index("dataset")
            xs = [i + (j - (len(generators) - 1) / 2) * width for i, d in enumerate(datasets) if d in sub.index]
            ax.bar(xs, [sub.loc[d, col] for d in datasets if d in sub.index], width, color=colours[j % len(colours)], label=gen)
        ax.set_xticks(range(len(datasets)), datasets)
        ax.set(ylabel=label, yscale="log")
    axes[0].legend(fontsize=8)
    time_png = _png(fig)

    rows = [(r["dataset"], r["generator"], r["seeds"], r["auc_mean"], r["auc_sd"], r["auc_t_pm"], r["delong_pm"],
             r["null_mean"], r["fit_s"], r["sample_s"], r["detect_s"], r["rows_per_s"], r["mean_ks"], r["mean_tvd"], r["dcr_ratio"],
             r["auc_gap"]) for _, r in summary.iterrows()]
    title = f"Benchmark {info.get('config', {}).get('name', bench_dir.name)}"
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p class=note>{html.escape(str(info.get('bench_id', '')))} · {len(results)} runs · machine "
            f"{html.escape(json.dumps(info.get('machine', {})))}</p>",
            "<h2>Detector AUC by generator</h2>", _img(auc_png, "detector AUC by generator and dataset"),
            "<p class=note>Lower is better: 0.5 means the detector cannot tell synthetic from real rows. Error bars are "
            "the 95 % Student-t interval of the mean over generator seeds (with one seed, the run's DeLong interval, "
            "which covers split noise only); the dashed line is the real-vs-real null AUC.</p>",
            "<h2>Speed</h2>", _img(time_png, "fit time and sampling throughput"),
            "<h2>Summary table</h2>",
            _table(rows, ("dataset", "generator", "seeds", "AUC mean", "seed SD", "± t95 (seeds)", "± DeLong (split)",
                          "null AUC", "fit s", "sample s", "detect s", "rows/s", "mean KS", "mean TVD", "DCR ratio",
                          "TSTR AUC gap")),
            "<p class=note>Seed SD and ± t95 are the AUC's spread across generator seeds; ± DeLong is the mean half "
            "width of the runs' DeLong intervals, which cover only the detector's split noise for one synthetic draw "
            "and not the generator's seed-to-seed variation: compare generators by both.</p>",
            "<h2>Runs</h2>"]
    run_rows = []
    for _, r in results.iterrows():
        link = f"{r['run_dir']}/report.html"
        exists = (bench_dir / link).exists()
        run_rows.append(f"<tr><td>{html.escape(str(r['dataset']))}</td><td>{html.escape(str(r['generator']))}</td>"
                        f"<td>{r['seed']}</td><td>{r['roc_auc']:.3f}</td><td>"
                        + (f'<a href="{html.escape(link)}">report</a>' if exists else html.escape(str(r["run_dir"])))
                        + "</td></tr>")
    body.append("<table><tr><th>dataset</th><th>generator</th><th>seed</th><th>AUC</th><th>run</th></tr>"
                + "".join(run_rows) + "</table>")
    out = bench_dir / "comparison.html"
    from .io import write_text_atomic

    write_text_atomic(out, _page(title, body))
    return out

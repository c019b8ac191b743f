"""Human-readable reports: one self-contained HTML page per run, and one per benchmark.

``write_report(run_dir)`` writes ``run_dir/report.html``. It only renders: every figure on the
page comes from the run folder (``metrics.json``, ``scores.csv``, ``config.json``), never from
re-reading the real table or re-running a stage, so the page shows exactly what the run
measured and costs a second, not a second experiment. What the fidelity stage stores for it
(``metrics.json``'s ``fidelity.columns_chart``, ``fidelity.associations``, ``fidelity.reference``,
see ``advsynth.metrics.evaluate.report_figures``) is drawn as inline SVG; the ROC curve (from
``scores.csv``) is an embedded PNG (matplotlib, Agg). A folder written before a figure existed
gets the page without it, and a line saying what is missing and why.

Sections: a summary of both adversaries' verdicts and the fidelity and utility headlines, each
beside its real-vs-real reference (what two samples of real rows score: the null AUC, the
holdout's KS/TVD against the training rows, TRTR, the chance copy rate, 50 % DCR share, AUC
0.5); the detector (ROC, column importance, giveaways); every column charted with its
statistic and reference; association matrices across all column types; privacy; utility; the
raw config and metrics folded away at the end.

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
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;margin:0 auto;padding:0 1em 3em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.8em 0 .3em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em;scroll-margin-top:3em}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.5em 0;z-index:1;display:flex;flex-wrap:wrap;gap:.3em 1.2em}
nav a{color:#1f4e8c;text-decoration:none;font-size:.95em}nav a:hover{text-decoration:underline}
.box{overflow-x:auto;max-width:100%;margin:.5em 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}td.text{text-align:left;max-width:28em;overflow-wrap:anywhere}
.verdict{font-size:1.05em;background:#f6f8fa;padding:.6em 1em;border-left:4px solid #888;margin:.4em 0}
.verdict.bad{border-left-color:#d62728}.verdict.good{border-left-color:#2ca02c}.verdict.warn{border-left-color:#e6a100}
table.wide td,table.wide th{white-space:nowrap;max-width:none}
.note{color:#555;font-size:.92em}.missing{color:#8a5a00;background:#fff8e6;padding:.4em .8em;border-left:3px solid #e6a100}
img{max-width:100%;height:auto}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.8em;margin:.8em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;background:#fafbfc}
.card h3{margin:0 0 .3em;font-size:.95em;color:#444;font-weight:600}
.card .big{font-size:1.45em;font-weight:600}.card .ref{color:#555;font-size:.88em}
.card.bad{border-color:#d62728;background:#fff5f5}.card.warn{border-color:#e6a100;background:#fffbf0}.card.good{border-color:#9bd19b}
.cols{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1em}
figure{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:.5em;min-width:0}
figcaption{font-size:.9em;margin-bottom:.3em}figcaption b{font-size:1.05em}
.tag{display:inline-block;font-size:.8em;padding:0 .4em;border-radius:3px;background:#eee;color:#333}
.tag.bad{background:#fde2e2;color:#a11}.tag.good{background:#e3f4e3;color:#185e18}.tag.warn{background:#fff1cc;color:#7a5200}
svg{max-width:100%;height:auto;display:block}svg text{font-family:inherit}
.matrices{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1em}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.8em;white-space:pre-wrap;overflow-wrap:anywhere;max-height:40em}
.legend span{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin:0 .3em 0 .8em}
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


# --------------------------------------------------------------------------- numbers in words

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v)) or (isinstance(v, str) and not v)


def _sci(v: float, sig: int = 2) -> str:
    """``3.1 × 10⁻⁵``: a tiny number a reader can read (never ``3.071e-05``)."""
    mantissa, exponent = f"{v:.{sig - 1}e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def fmt_num(v, sig: int = 3) -> str:
    """A number with ``sig`` significant digits and thousands separators: 1,484,700 / 0.0123 / 3.1 × 10⁻⁵."""
    if _missing(v):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if abs(float(v)) >= 10 ** (sig - 1):  # large numbers keep every digit before the point: 1,484,700
        return f"{float(v):,.0f}"
    v = float(f"{float(v):.{sig}g}")  # round first: 0.09999 is 0.1, not "0.100" or "10.00 %"
    if v == 0:
        return "0"
    if abs(v) < 1e-4:
        return _sci(v)
    digits = max(0, sig - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_pct(v, sig: int = 3) -> str:
    """A share as a percentage: 91.7 %, 0.55 %, 0.0031 %; exactly 0 is "0 %"."""
    if _missing(v):
        return "–"
    pct = float(f"{float(v) * 100:.{sig}g}")  # round first, so 9.999 % reads 10.0 %
    if pct == 0:
        return "0 %"
    if abs(pct) >= 10:
        return f"{pct:.1f} %"
    digits = max(0, sig - 1 - math.floor(math.log10(abs(pct))))
    return f"{pct:.{min(digits, 6)}f} %"


def fmt_p(p) -> str:
    """A p-value: "p = 0.31", "p = 6.4 × 10⁻⁶", "p < 10⁻³⁰⁰" (a p-value that underflowed to 0)."""
    if _missing(p):
        return "p –"
    p = float(p)
    if p == 0:
        return "p < 10⁻³⁰⁰"
    return f"p = {_sci(p)}" if p < 0.001 else f"p = {p:.2g}"


def fmt_auc(v) -> str:
    return "–" if _missing(v) else f"{float(v):.3f}"


def fmt_ci(ci) -> str:
    if not ci or any(_missing(x) for x in ci):
        return ""
    return f"95 % CI {float(ci[0]):.3f}–{float(ci[1]):.3f}"


def fmt_short(v: float) -> str:
    """An axis label: 3 significant digits with k / M for thousands and millions."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    return f"{v:.4g}" if a >= 1e-3 or v == 0 else _sci(v, 2)


def _esc(v) -> str:
    return html.escape(str(v))


def _table(rows: list[tuple], header: tuple | None = None, fmt=fmt_num, wide: bool = False) -> str:
    """An HTML table in a box that scrolls on its own (the page never does): numbers formatted with
    ``fmt``, strings left as they are (escaped, wrapped)."""
    out = [f'<div class="box"><table{" class=wide" if wide else ""}>']
    if header:
        out.append("<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, str):
                cells.append(f'<td class="text">{_esc(v)}</td>')
            elif isinstance(v, _Html):
                cells.append(f"<td>{v}</td>")
            else:
                cells.append(f"<td>{_esc(fmt(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></div>")
    return "".join(out)


class _Html(str):
    """Markup a table cell takes as it is (already escaped)."""


def _page(title: str, nav: list[tuple[str, str]], body: list[str]) -> str:
    links = "".join(f'<a href="#{_esc(a)}">{_esc(label)}</a>' for a, label in nav)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_esc(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + (f"<nav>{links}</nav>\n" if nav else "")
            + "\n".join(body) + "\n</body></html>\n")


def _first_number(*values) -> float:
    """The first value that is a number (0 if none): an error bar's half width."""
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return 0.0


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


def _svg_bars(items: list[tuple[str, float]], title: str, width: int = 560, colour: str = SYNTH_COLOUR,
              fmt=fmt_pct) -> str:
    """Horizontal bars, one per (label, value), largest first as given; labels truncated with the
    whole label as a tooltip."""
    if not items:
        return ""
    row, left, right = 20, 170, 70
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1.0
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" aria-label="{_esc(title)}">']
    for i, (label, v) in enumerate(items):
        y = 5 + i * row
        w = (width - left - right) * max(0.0, v) / top
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12"><title>{_esc(label)}</title>'
                   f"{_esc(_clip(label, 24))}</text>"
                   f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{colour}"/>'
                   f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="11" fill="#333">{_esc(fmt(v))}</text>')
    out.append("</svg>")
    return "".join(out)


def _clip(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _axis_label(value: float, kind: str, unit: str | None) -> str:
    """A bin edge as a reader knows the column: a date, the first whole number of an integer bin, a number."""
    if kind == "integer":
        return fmt_short(math.ceil(value))
    if kind == "datetime" and unit:
        try:
            return str(np.datetime64(int(round(value)), unit))[:10]
        except (ValueError, OverflowError):
            pass
    return fmt_short(value)


def _svg_numeric(chart: dict, unit: str | None = None) -> str:
    """Overlaid real (filled blue) and synthetic (red outline) shares on the run's shared bins, with
    each point mass (a value holding ≥ 5 % of the rows: a zero-inflated column's 0, a heaped 40
    hours) and the missing share drawn as separate bars on a scale of their own, so a 92 % spike
    does not flatten the histogram beside it."""
    points, edges = chart.get("points") or [], chart.get("edges") or []
    missing = chart.get("missing") or {}
    discrete = [(fmt_short(p["value"]) if chart["kind"] != "datetime" else _axis_label(p["value"], "datetime", unit),
                 p["real"] or 0.0, p["synthetic"] or 0.0) for p in points]
    if (missing.get("real") or 0) > 0 or (missing.get("synthetic") or 0) > 0:
        discrete.append(("missing", missing.get("real") or 0.0, missing.get("synthetic") or 0.0))
    width, height, base, top_pad = 400, 190, 150, 18
    only_discrete = not edges
    split = 0 if not discrete else (width - 40 if only_discrete else min(150, 34 + 30 * len(discrete)))
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img">']
    out.append(f'<line x1="30" y1="{base}" x2="{width - 6}" y2="{base}" stroke="#999"/>')
    if discrete:
        peak = max(max(r, s) for _, r, s in discrete) or 1.0
        slot = (split - 10) / len(discrete)
        bar = min(18.0, slot / 2 - 2)
        out.append(f'<text x="30" y="12" font-size="10" fill="#555">{_esc(fmt_pct(peak))}</text>')
        for i, (label, r, s) in enumerate(discrete):
            x = 34 + i * slot + slot / 2
            for dx, v, colour in ((-bar - 1, r, REAL_COLOUR), (1, s, SYNTH_COLOUR)):
                h = (base - top_pad) * v / peak
                out.append(f'<rect x="{x + dx:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                           f'fill="{colour}" fill-opacity="{0.75 if colour == REAL_COLOUR else 0.6}">'
                           f'<title>{_esc(label)}: {"real" if colour == REAL_COLOUR else "synthetic"} {_esc(fmt_pct(v))}'
                           "</title></rect>")
            out.append(f'<text x="{x:.1f}" y="{base + 13}" font-size="10" text-anchor="middle">'
                       f'{_esc(("= " if label != "missing" and not only_discrete else "") + _clip(label, 8))}</text>')
    if edges:
        r, s = chart.get("real") or [], chart.get("synthetic") or []
        x0 = 30 + split + (12 if discrete else 4)
        span = width - 8 - x0
        peak = max(max(r or [0]), max(s or [0])) or 1.0
        n = len(edges) - 1
        w = span / n
        out.append(f'<text x="{x0}" y="12" font-size="10" fill="#555">{_esc(fmt_pct(peak))} per bin</text>')
        for i in range(n):
            h = (base - top_pad) * (r[i] or 0) / peak
            out.append(f'<rect x="{x0 + i * w:.1f}" y="{base - h:.1f}" width="{max(w - 0.5, 0.5):.1f}" height="{h:.1f}" '
                       f'fill="{REAL_COLOUR}" fill-opacity="0.45"><title>{_esc(fmt_short(edges[i]))}–'
                       f"{_esc(fmt_short(edges[i + 1]))}: real {_esc(fmt_pct(r[i]))}, synthetic {_esc(fmt_pct(s[i]))}"
                       "</title></rect>")
        path = [f"M{x0:.1f},{base}"]
        for i in range(n):
            y = base - (base - top_pad) * (s[i] or 0) / peak
            path.append(f"L{x0 + i * w:.1f},{y:.1f}L{x0 + (i + 1) * w:.1f},{y:.1f}")
        path.append(f"L{x0 + n * w:.1f},{base}")
        out.append(f'<path d="{"".join(path)}" fill="none" stroke="{SYNTH_COLOUR}" stroke-width="1.6"/>')
        for i in (0, n // 2, n):
            anchor = "start" if i == 0 else "end" if i == n else "middle"
            out.append(f'<text x="{x0 + i * w:.1f}" y="{base + 13}" font-size="10" text-anchor="{anchor}">'
                       f'{_esc(_axis_label(edges[i], chart["kind"], unit))}</text>')
    out.append(f'<text x="30" y="{height - 6}" font-size="10" fill="#555">share of rows · '
               f'<tspan fill="{REAL_COLOUR}">■ real</tspan> · <tspan fill="{SYNTH_COLOUR}">▬ synthetic</tspan></text>')
    out.append("</svg>")
    return "".join(out)


def _svg_categorical(chart: dict) -> str:
    """Paired horizontal bars, real over synthetic, for the top levels then "(other)" and "(missing)"."""
    levels, r, s = chart["levels"], chart["real"], chart["synthetic"]
    row, left, right, width = 22, 122, 96, 400
    height = row * len(levels) + 26
    peak = max(max(r or [0]), max(s or [0])) or 1.0
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img">']
    for i, level in enumerate(levels):
        y = 4 + i * row
        out.append(f'<text x="{left - 5}" y="{y + 15}" font-size="11" text-anchor="end"><title>{_esc(level)}</title>'
                   f"{_esc(_clip(level, 18))}</text>")
        for dy, v, colour, who in ((2, r[i], REAL_COLOUR, "real"), (11, s[i], SYNTH_COLOUR, "synthetic")):
            w = (width - left - right) * (v or 0) / peak
            out.append(f'<rect x="{left}" y="{y + dy}" width="{w:.1f}" height="8" fill="{colour}" '
                       f'fill-opacity="{0.8 if who == "real" else 0.65}"><title>{_esc(level)}: {who} '
                       f"{_esc(fmt_pct(v))}</title></rect>")
        out.append(f'<text x="{left + (width - left - right) * max(r[i] or 0, s[i] or 0) / peak + 4:.1f}" y="{y + 15}" '
                   f'font-size="10" fill="#444">{_esc(fmt_pct(r[i]))} / {_esc(fmt_pct(s[i]))}</text>')
    out.append(f'<text x="{left}" y="{height - 6}" font-size="10" fill="#555">share of rows · '
               f'<tspan fill="{REAL_COLOUR}">■ real</tspan> / <tspan fill="{SYNTH_COLOUR}">■ synthetic</tspan></text>')
    out.append("</svg>")
    return "".join(out)


def _colour(v: float | None, diverging: bool, vmax: float) -> str:
    """White to red (|difference|), or blue–white–red for an association in [-1, 1]."""
    if v is None or not math.isfinite(v):
        return "#eeeeee"
    t = max(-1.0, min(1.0, v / vmax))
    if diverging and t < 0:
        a = -t
        return f"rgb({int(255 - 224 * a)},{int(255 - 136 * a)},{int(255 - 75 * a)})"
    a = abs(t)
    return f"rgb({int(255 - 41 * a)},{int(255 - 216 * a)},{int(255 - 215 * a)})"


def _svg_matrix(columns: list[str], kinds: list[str], matrix: list[list], name: str, diverging: bool,
                vmax: float = 1.0) -> str:
    """A heatmap as SVG: one square per pair with its value as a tooltip; numeric columns are marked
    '#' and categorical ones '◆' in the labels, since the cell's measure depends on the pair's types."""
    p = len(columns)
    cell = max(8, min(22, 330 // max(p, 1)))
    label_w = 118
    size = label_w + cell * p + 4
    width = size + 80  # the last rotated column labels lean right
    out = [f'<svg viewBox="0 0 {width} {size}" width="{width}" role="img" data-matrix="{_esc(name)}" '
           f'aria-label="{_esc(name)} association matrix">']
    font = max(7, min(11, cell - 2))
    for i, (col, kind) in enumerate(zip(columns, kinds)):
        mark = "#" if kind in ("numeric", "integer", "datetime") else "◆"
        label = f"{_clip(col, 15)} {mark}"
        out.append(f'<text x="{label_w - 4}" y="{label_w + i * cell + cell * 0.75:.1f}" font-size="{font}" '
                   f'text-anchor="end">{_esc(label)}</text>')
        out.append(f'<text transform="translate({label_w + i * cell + cell * 0.7:.1f},{label_w - 4}) rotate(-60)" '
                   f'font-size="{font}">{_esc(label)}</text>')
    for i in range(p):
        for j in range(p):
            v = matrix[i][j]
            out.append(f'<rect x="{label_w + j * cell}" y="{label_w + i * cell}" width="{cell}" height="{cell}" '
                       f'fill="{_colour(v, diverging, vmax)}" stroke="#fff" stroke-width="0.5"><title>{_esc(columns[i])} × '
                       f"{_esc(columns[j])}: {_esc(fmt_num(v))}</title></rect>")
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- verdicts and headlines


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


def _verdict_words(det: dict) -> tuple[str, str]:
    """The detector's verdict in words and its tone (good / warn / bad)."""
    auc, (lo, hi) = det["roc_auc"], det["roc_auc_ci"]
    null = det.get("null_roc_auc")
    if lo <= 0.5 <= hi or (null is not None and null >= lo):
        return "the detector cannot reliably tell the synthetic rows from real ones", "good"
    if auc < 0.7:
        return "the detector separates the synthetic rows a little: they are close but not indistinguishable", "warn"
    if auc < 0.9:
        return "the detector separates the synthetic rows clearly", "bad"
    return "the synthetic rows are trivially detected", "bad"


def _verdict(det: dict) -> str:
    words, _ = _verdict_words(det)
    null = det.get("null_roc_auc")
    return (f"Detector ROC-AUC <b>{det['roc_auc']:.3f}</b> ({fmt_ci(det['roc_auc_ci'])}, {_esc(fmt_p(det['p_value']))})"
            + (f", real-vs-real null {null:.3f}" if null is not None else "") + f": {words}.")


def _card(title: str, big: str, ref: str, tone: str = "", extra: str = "") -> str:
    return (f'<div class="card {tone}"><h3>{_esc(title)}</h3><div class="big">{big}</div>'
            f'<div class="ref">{ref}</div>{extra}</div>')


def _privacy_verdict(priv: dict) -> tuple[str, str]:
    """The privacy adversary's verdict in a sentence and its tone."""
    if priv.get("flagged"):
        tests = ", ".join(f["test"].replace("_", " ") for f in priv.get("flags") or [])
        return f"FLAGGED: {tests}", "bad"
    return "not flagged: no test found memorisation", "good"


def _summary(metrics: dict) -> list[str]:
    """The headline cards: both adversaries, fidelity and utility, each beside its real-vs-real reference."""
    det = metrics["detector"]
    words, tone = _verdict_words(det)
    null = det.get("null_roc_auc")
    cards = [_card("Adversary 1: detector ROC-AUC", fmt_auc(det["roc_auc"]),
                   f"{fmt_ci(det['roc_auc_ci'])}, {_esc(fmt_p(det['p_value']))}<br>reference (real vs real null): "
                   f"<b>{fmt_auc(null)}</b>; chance 0.5", tone, f'<div class="note">{_esc(words)}</div>')]
    only = metrics.get("holdout_only") or {}
    if only.get("roc_auc") is not None:
        cards.append(_card("Detector on holdout rows only", fmt_auc(only["roc_auc"]),
                           f"{fmt_ci(only['roc_auc_ci'])}; real rows never seen by the generator "
                           f"({fmt_num(only['n_holdout'])}); reference: the null {fmt_auc(null)}"))
    priv = metrics.get("privacy")
    if priv:
        verdict, ptone = _privacy_verdict(priv)
        attacks = (priv.get("membership") or {}).get("attacks") or {}
        dist = attacks.get("distance") or {}
        dcr = priv.get("dcr") or {}
        cards.append(_card("Adversary 2: privacy", _esc(verdict.split(":")[0]),
                           f"membership attack AUC <b>{fmt_auc(dist.get('roc_auc'))}</b> (reference 0.5: nothing "
                           f"leaks)<br>DCR share <b>{fmt_pct(dcr.get('share_equal_size'))}</b> for equal-size sets "
                           "(reference 50 %)", ptone, f'<div class="note">{_esc(verdict)}</div>'))
    fid = metrics.get("fidelity") or {}
    summ, ref = fid.get("summary") or {}, (fid.get("reference") or {}).get("summary") or {}
    basis = (fid.get("reference") or {}).get("basis", "")
    if summ:
        n_matched = (fid.get("reference") or {}).get("n_synthetic_matched")
        for key, label in (("mean_ks", "Fidelity: mean KS, numeric columns"), ("mean_tvd", "Fidelity: mean TVD, categorical columns")):
            if summ.get(key) is None:
                continue
            r, matched = ref.get(key), ref.get(f"synthetic_{key}")
            if r is None or matched is None:
                cards.append(_card(label, fmt_num(summ[key]), "reference: not in this run folder"))
                continue
            cards.append(_card(label, fmt_num(matched), f"reference (real {_esc(basis)}): <b>{fmt_num(r)}</b><br>"
                               f"synthetic sample of {fmt_num(n_matched)} rows vs the same training rows; whole "
                               f"tables: {fmt_num(summ[key])}", _tone(matched, r)))
        assoc = fid.get("associations") or {}
        if assoc.get("matched_mean_abs_diff") is not None:
            r, matched = assoc.get("reference_mean_abs_diff"), assoc["matched_mean_abs_diff"]
            cards.append(_card("Fidelity: mean |association difference|", fmt_num(matched),
                               f"reference (real vs real): <b>{fmt_num(r)}</b>; whole tables: "
                               f"{fmt_num(assoc.get('mean_abs_diff'))}", _tone(matched, r)))
    util = (metrics.get("utility") or {}).get("tstr")
    if util:
        tstr, trtr = util.get("tstr") or {}, util.get("trtr") or {}
        key = "auc" if util["task"] == "classification" else "r2"
        name = "AUC" if key == "auc" else "R²"
        cards.append(_card(f"Utility: TSTR {name} predicting '{util['target']}'", fmt_auc(tstr.get(key)),
                           f"reference (TRTR, trained on real rows): <b>{fmt_auc(trtr.get(key))}</b>",
                           "good" if tstr.get(key) is not None and trtr.get(key) is not None
                           and trtr[key] - tstr[key] < 0.02 else ""))
    return ['<div class="cards">' + "".join(cards) + "</div>"]


def _tone(value, reference) -> str:
    """good when a distance is within 1.5× its real-vs-real reference, bad beyond 3×."""
    if value is None or reference is None or reference <= 0:
        return ""
    ratio = value / reference
    return "good" if ratio <= 1.5 else "bad" if ratio > 3 else ""


def _ratio_tag(value, reference) -> str:
    tone = _tone(value, reference)
    if not tone and (value is None or reference is None or reference <= 0):
        return ""
    ratio = value / reference
    word = {"good": "as real", "bad": "far off"}.get(tone, "off")
    return f'<span class="tag {tone or "warn"}">{ratio:.1f}× ref · {word}</span>'


# --------------------------------------------------------------------------- sections


GIVEAWAY_ROWS_SHOWN = 10


def _giveaway_tables(giveaways: dict) -> list[str]:
    """Per giveaway column, the levels or value ranges most over- or under-represented, and the
    held-out synthetic rows the detector is surest are fake (never real rows)."""
    body = []
    for column, entries in (giveaways.get("levels") or {}).items():
        if not entries:
            continue
        label = "range" if "range" in entries[0] else "level"
        rows = [(str(e.get(label)), e.get("real_share"), e.get("synthetic_share"), e.get("difference")) for e in entries]
        body.append(_table(rows, (f"{column}: {label}", "real share", "synthetic share", "synthetic − real"), fmt=fmt_pct))
    if body:
        body.append("<p class=note>Where the synthetic shares differ most from the real ones, for the detector's top "
                    "columns: a positive difference is over-produced by the generator, a negative one missed.</p>")
    fakes = (giveaways.get("rows") or [])[:GIVEAWAY_ROWS_SHOWN]
    if fakes:
        columns = list(fakes[0].get("row", {}))
        rows = [(f"{r['score']:.3f}", *[_cell(r["row"].get(c)) for c in columns]) for r in fakes]
        body.append(_table(rows, ("detector score", *columns), wide=True))
        body.append(f"<p class=note>The {len(fakes)} held-out synthetic rows the detector is surest are fake "
                    "(score = its probability that the row is synthetic). The table scrolls sideways in its box.</p>")
    return body


def _cell(v):
    """A table cell's value: numbers formatted, text as text."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return _Html(_esc(fmt_num(v, sig=6)))
    return "–" if v is None else str(v)


def _k_at_edge_note(metrics: dict) -> str | None:
    """A warning when the GMM's chosen number of components is the smallest or largest one swept."""
    fit = metrics.get("generator_fit") or {}
    edge = fit.get("k_at_edge")
    if not edge:
        return None
    ks = sorted(int(k) for k in (fit.get("criterion_by_k") or {}))
    swept = f" (swept {ks[0]}–{ks[-1]})" if ks else ""
    bound = "max_components" if edge == "max" else "min_components"
    from .experiment.stages import chosen_k

    return (f"<p class=note><b>k at the edge:</b> the GMM chose k = {chosen_k(fit)}, the "
            f"{'largest' if edge == 'max' else 'smallest'} number of components swept{html.escape(swept)}; the "
            f"{html.escape(str(fit.get('criterion', 'criterion')).upper())} might keep improving beyond it. "
            f"Widen {bound} and compare.</p>")


def _missing_note(what: str) -> str:
    return f'<p class="missing">Not in this run folder: {what}. The report draws only what the run saved; ' \
           "re-run with this advsynth version to get it (nothing is recomputed here).</p>"


def _detector_section(metrics: dict, run_dir: Path) -> list[str]:
    det = metrics["detector"]
    words, tone = _verdict_words(det)
    body = [f'<p class="verdict {tone}">{_verdict(det)}</p>',
            f"<p class=note>{fmt_num(metrics['n_synthetic'])} synthetic rows vs {fmt_num(metrics['n_real'])} real; "
            f"the detector trained on {fmt_num(det['n_train'])} rows and was scored on {fmt_num(det['n_test'])} held-out "
            "rows. AUC 0.5 means it does no better than chance, 1.0 that every fake is caught; the reference is the "
            "null: the same protocol on two halves of the real table.</p>",
            f"<p class=note>{_esc(holdout_only_line(metrics))}.</p>"]
    edge = _k_at_edge_note(metrics)
    if edge:
        body.append(edge)
    if (run_dir / "scores.csv").exists():
        png, curves = _chart_roc(_read_scores(run_dir / "scores.csv"))
        body.append(_img(png, "ROC curves: " + "; ".join(curves)))
        body.append("<p class=note>Red: the detector on held-out real and synthetic rows; grey dashed: the same detector "
                    "protocol on two halves of the real table (what 'nothing to find' looks like). The closer the red "
                    "curve is to the grey one, the better the synthetic data.</p>")
    else:
        body.append(_missing_note("scores.csv (the held-out detector scores), so no ROC curve"))
    importance = sorted((det.get("column_importance") or {}).items(), key=lambda kv: -kv[1])[:15]
    if importance:
        body.append("<h3>Which columns give the fakes away</h3>")
        body.append(_svg_bars(importance, "column importance"))
        body.append("<p class=note>Share of the detector's total split gain per original column (one-hot levels "
                    "summed): the columns the generator reproduces worst.</p>")
    if det.get("giveaways"):
        body.append("<h3>Which levels and rows give the fakes away</h3>")
        body += _giveaway_tables(det["giveaways"])
    return body


def _columns_section(metrics: dict, schema: dict | None) -> list[str]:
    fid = metrics.get("fidelity") or {}
    charts = fid.get("columns_chart")
    marg = fid.get("marginals") or {}
    ref = (fid.get("reference") or {}).get("marginals") or {}
    matched = (fid.get("reference") or {}).get("synthetic_marginals") or {}
    basis = (fid.get("reference") or {}).get("basis")
    units = {c["name"]: c.get("unit") for c in (schema or {}).get("columns", [])}
    body = ["<p class=note>Every modelled column, real (blue) against synthetic (red), with its fidelity statistic: "
            "KS (the largest gap between the two cumulative distributions) for numbers and dates, TVD (half the summed "
            "absolute differences of level shares) for categories; both 0 when identical, 1 when disjoint. In brackets "
            f"the reference: the same statistic between two samples of real rows ({_esc(basis or 'holdout vs training rows')}), "
            "the noise floor a faithful generator cannot beat. The first figure is measured alike: a synthetic sample of "
            "the holdout's size against the same training rows; 'whole tables' compares all synthetic rows with all "
            "real rows (fewer rows' noise, so smaller). Numeric bins are shared by both sides (Freedman–Diaconis width over the "
            "central 99 %, end bins holding the tails); a value holding 5 % of the rows or more, and the missing share, "
            "get bars of their own on their own scale; categories show the 12 most common real levels, then all "
            "others as '(other)'.</p>"]
    if not fid:
        return body[:0] + [_missing_note("fidelity figures (the run skipped the extras)")]
    if not charts:
        body.append(_missing_note("per-column chart data (metrics.json's fidelity.columns_chart)"))
        rows = [(c, m.get("statistic", "").upper(), m.get("value"), ref.get(c)) for c, m in marg.items()]
        if rows:
            body.append(_table(rows, ("column", "statistic", "synthetic vs real", "real vs real reference")))
        return body
    figures = []
    order = [c["name"] for c in (schema or {}).get("columns", []) if c.get("name") in charts]
    order += [c for c in charts if c not in order]  # metrics.json's keys are sorted; the page keeps the table's order
    for col in order:
        chart = charts[col]
        m = marg.get(col) or {}
        stat, whole, r = (m.get("statistic") or "").upper(), m.get("value"), ref.get(col)
        value = matched.get(col, whole)
        svg = _svg_categorical(chart) if chart["kind"] in ("categorical", "boolean") else _svg_numeric(chart, units.get(col))
        extra = ""
        if chart.get("n_levels_real"):
            extra = f" · {fmt_num(chart['n_levels_real'])} levels"
        outside = chart.get("synthetic_outside_real_range")
        if outside:
            extra += f" · {fmt_pct(outside)} of synthetic rows outside the real range"
        figures.append(f'<figure class="col" data-column="{_esc(col)}" data-kind="{_esc(chart["kind"])}">'
                       f'<figcaption><b>{_esc(col)}</b> <span class="note">{_esc(chart["kind"])}{_esc(extra)}</span><br>'
                       f"{stat} <b>{_esc(fmt_num(value))}</b> (reference {_esc(fmt_num(r))}) {_ratio_tag(value, r)}"
                       f' <span class="note">whole tables {_esc(fmt_num(whole))}</span>'
                       f"</figcaption>{svg}</figure>")
    body.append('<div class="cols">' + "".join(figures) + "</div>")
    return body


def _associations_section(metrics: dict) -> list[str]:
    fid = metrics.get("fidelity") or {}
    assoc = fid.get("associations")
    body = ["<p class=note>How strongly each pair of columns goes together, whatever their types: Spearman's rank "
            "correlation for two numeric columns (#), bias-corrected Cramér's V for two categorical ones (◆), the "
            "correlation ratio η for a numeric and a categorical column (how much of the number the category "
            "explains). V and η lie in 0–1, Spearman in −1–1 (blue: negative). The third matrix is the absolute "
            "difference: dark cells are relations the generator lost or invented. Hover a cell for its value.</p>"]
    if not assoc:
        corr = fid.get("correlation") or {}
        body.append(_missing_note("all-type association matrices (metrics.json's fidelity.associations)"))
        if len(corr.get("columns") or []) >= 2 and corr.get("real"):
            kinds = ["numeric"] * len(corr["columns"])
            diff = corr["abs_diff"]
            body.append("<p class=note>What the run did save: Spearman correlations of its numeric columns.</p>")
            body.append('<div class="matrices">' + "".join(
                f"<div><b>{t}</b>{_svg_matrix(corr['columns'], kinds, m, n, d, v)}</div>"
                for t, m, n, d, v in (("real", corr["real"], "real", True, 1.0),
                                      ("synthetic", corr["synthetic"], "synthetic", True, 1.0),
                                      ("|difference|", diff, "difference", False, _diff_max(diff)))) + "</div>")
        return body
    real, syn = np.array(assoc["real"], dtype=float), np.array(assoc["synthetic"], dtype=float)
    diff = np.abs(real - syn)
    diff_list = [[None if not np.isfinite(v) else float(v) for v in row] for row in diff]
    vmax = _diff_max(diff_list)
    cols, kinds = assoc["columns"], assoc["kinds"]
    matched_diff = assoc.get("matched_mean_abs_diff")
    body.append(f"<p>Mean |difference| over the pairs, training rows vs a holdout-size synthetic sample "
                f"<b>{fmt_num(matched_diff)}</b>; reference (training rows vs holdout) "
                f"<b>{fmt_num(assoc.get('reference_mean_abs_diff'))}</b> "
                f"{_ratio_tag(matched_diff, assoc.get('reference_mean_abs_diff'))}; the matrices below, whole tables: "
                f"{fmt_num(assoc.get('mean_abs_diff'))}. "
                f"<span class=note>On {fmt_num(assoc.get('n_rows'))} rows per table"
                + (f"; {assoc['truncated_columns']} columns beyond the first {len(cols)} left out"
                   if assoc.get("truncated_columns") else "") + ".</span></p>")
    body.append('<div class="matrices">' + "".join(
        f"<div><b>{title}</b>{_svg_matrix(cols, kinds, m, name, div, v)}</div>"
        for title, m, name, div, v in (("real", assoc["real"], "real", True, 1.0),
                                       ("synthetic", assoc["synthetic"], "synthetic", True, 1.0),
                                       (f"|difference| (dark red = {fmt_num(vmax)})", diff_list, "difference", False, vmax)))
        + "</div>")
    body.append("<p class=note>Colour: white 0, red 1 (blue −1) for the real and synthetic matrices; white 0 to dark red "
                f"{fmt_num(vmax)} for the difference; grey: undefined (a constant column).</p>")
    pairs = [(cols[i], cols[j], real[i, j], syn[i, j], diff[i, j]) for i in range(len(cols)) for j in range(i + 1, len(cols))
             if np.isfinite(diff[i, j])]
    pairs.sort(key=lambda t: -t[4])
    if pairs:
        body.append("<h3>Pairs that changed most</h3>")
        body.append(_table([(f"{a} × {b}", r, s, d) for a, b, r, s, d in pairs[:8]],
                           ("pair", "real", "synthetic", "|difference|")))
    return body


def _diff_max(matrix: list[list]) -> float:
    values = [v for row in matrix for v in row if v is not None and math.isfinite(v)]
    return max(0.2, max(values) if values else 0.2)


def _sentence(text: str) -> str:
    """A metrics.json description as a sentence: capitalised, one full stop."""
    text = str(text).strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _privacy_section(metrics: dict) -> list[str]:
    priv = metrics.get("privacy")
    if not priv:
        why = (metrics.get("not_judged") or {}).get("privacy") or "the run skipped the extras"
        return [f"<p class=note>Not judged: {_esc(why)}.</p>"]
    verdict, tone = _privacy_verdict(priv)
    body = [f'<p class="verdict {tone}">Privacy adversary: <b>{_esc(verdict)}</b>.</p>',
            "<p class=note>The second adversary: does the synthetic table reveal which real rows the generator was "
            "trained on? Members are the generator's training rows, non-members the holdout it never saw; each test "
            f"is read against what chance gives. {_esc(_sentence(priv.get('rule', '')))}</p>"]
    for flag in priv.get("flags") or []:
        body.append(f'<p class="verdict bad"><b>{_esc(flag["test"])}</b>: {_esc(flag.get("message", ""))} (effect '
                    f'{_esc(fmt_num(flag.get("effect")))}, threshold {_esc(fmt_num(flag.get("threshold")))}, '
                    f'{_esc(fmt_p(flag.get("p_value")))})</p>')
    rows = []
    attacks = (priv.get("membership") or {}).get("attacks") or {}
    for key, label in (("distance", "membership attack ROC-AUC: distance to the synthetic rows"),
                       ("density_ratio", "membership attack ROC-AUC: density ratio")):
        a = attacks.get(key)
        if a:
            rows.append((label, _Html(_esc(fmt_auc(a.get("roc_auc")))), _Html("0.5 (nothing leaks)"),
                         _Html(_esc(fmt_ci(a.get("roc_auc_ci")))), _Html(_esc(fmt_p(a.get("p_value"))))))
    dcr = priv.get("dcr") or {}
    if dcr:
        rows.append(("DCR share: synthetic rows whose closest real row is a training row",
                     _Html(fmt_pct(dcr.get("share"))), _Html(f"{fmt_pct(dcr.get('expected'))} (training rows' share)"),
                     "", _Html(_esc(fmt_p(dcr.get("p_value"))))))
        rows.append(("the same for equal-size training and holdout sets", _Html(fmt_pct(dcr.get("share_equal_size"))),
                     _Html("50 %"), "", ""))
        rows.append(("median distance to the closest training row: synthetic rows", _Html(fmt_num(dcr.get("synthetic_median"))),
                     _Html(f"{_esc(fmt_num(dcr.get('holdout_median')))} (holdout rows)"), "", ""))
    for key, label in (("exact", "exact copies of a unique training row"),
                       ("near", "near copies (all columns but one)")):
        c = (priv.get("copies") or {}).get(key)
        if c:
            rows.append((label, _Html(fmt_pct(c.get("rate"))), _Html(f"{fmt_pct(c.get('chance_rate'))} (holdout's rate)"),
                         _Html(f"excess {_esc(fmt_pct(c.get('excess')))}"), _Html(_esc(fmt_p(c.get("p_value"))))))
    for column, ident in (priv.get("identifiers") or {}).items():
        if isinstance(ident, dict) and "rate" in ident:
            rows.append((f"rows carrying a real identifier of '{column}'", _Html(fmt_pct(ident.get("rate"))),
                         _Html(f"{fmt_pct(ident.get('chance_rate'))} (holdout's rate)"),
                         _Html(f"excess {_esc(fmt_pct(ident.get('excess')))}"), _Html(_esc(fmt_p(ident.get("p_value"))))))
    body.append(_table(rows, ("test", "value", "reference", "interval / excess", "p-value")))
    sizes = priv.get("sizes") or {}
    if sizes:
        body.append(f"<p class=note>{fmt_num(sizes.get('train'))} training rows, {fmt_num(sizes.get('holdout'))} holdout "
                    f"rows, {fmt_num(sizes.get('synthetic'))} synthetic rows. Distance: {_esc(dcr.get('distance', ''))}. "
                    f"{_esc(_sentence(priv.get('is', '')))}</p>")
    return body


def _utility_section(metrics: dict) -> list[str]:
    util = (metrics.get("utility") or {}).get("tstr") if metrics.get("utility") else None
    if not util:
        why = (metrics.get("not_judged") or {}).get("utility") or "no target column was given (--target / target:)"
        return [f"<p class=note>Not judged: {_esc(why)}.</p>"]
    body = [f"<p class=note>Train on synthetic, test on real (TSTR): a model ({_esc(util.get('model', ''))}) predicting "
            f"'{_esc(util['target'])}' is trained once on synthetic rows and once on real training rows (TRTR, the "
            f"reference), each on {fmt_num(util.get('n_train_synthetic'))} rows, and both are tested on the "
            f"{fmt_num(util.get('n_test'))} holdout rows. The gap is the utility the synthetic table lost.</p>"]
    tstr, trtr = util.get("tstr") or {}, util.get("trtr") or {}
    if util["task"] == "classification":
        rows = [("ROC-AUC", tstr.get("auc"), trtr.get("auc"), util.get("auc_gap")),
                ("accuracy", tstr.get("accuracy"), trtr.get("accuracy"), util.get("accuracy_gap"))]
    else:
        rows = [("R²", tstr.get("r2"), trtr.get("r2"), util.get("r2_gap"))]
    body.append(_table(rows, ("measure", "TSTR (synthetic)", "TRTR (real, reference)", "gap")))
    if util.get("tstr_skipped_reason"):
        body.append(f"<p class=note>TSTR skipped: {_esc(util['tstr_skipped_reason'])}</p>")
    return body


def _title(metrics: dict, run_config: dict | None, run_dir: Path) -> str:
    """What was judged: the generator (variant) on the dataset, or the external synthetic table."""
    name = metrics.get("name") or (run_config or {}).get("name") or run_dir.name
    seed = metrics.get("seed", 0)
    if metrics.get("generator") == "external":
        synthetic = metrics.get("synthetic_path") or (run_config or {}).get("synthetic_path")
        what = f"synthetic table {Path(str(synthetic)).name}" if synthetic else "an external synthetic table"
        return f"{what} vs real {name}"
    variant = metrics.get("generator_variant") or _bench_variant(run_dir) or metrics["generator"]
    return f"{variant} on {name} (seed {seed})"


def write_report(run_dir: str | Path) -> Path:
    """Write ``run_dir/report.html`` (self-contained, rendered only from the run folder) and return its path."""
    run_dir = Path(run_dir)
    metrics = _read_json(run_dir / "metrics.json")
    if metrics is None:
        raise ReportError(f"not a run folder (no metrics.json): {run_dir}")
    for key in ("detector", "n_real", "n_synthetic", "generator"):
        if key not in metrics:
            raise ReportError(f"{run_dir / 'metrics.json'} lacks '{key}': not a metrics file advsynth wrote")
    run_config = _read_json(run_dir / "config.json")
    schema = _read_json(run_dir / "schema.json")
    title = _title(metrics, run_config, run_dir)
    sections = [("summary", "Summary", "What the two adversaries found, and the fidelity and utility headlines. Each "
                 "figure stands beside its reference: what real data scores against real data (the null AUC, two "
                 "real samples' distances, a model trained on real rows, chance), so 'good' has a meaning for this "
                 "table.", _summary(metrics)),
                ("detector", "Detector", "Adversary 1: a gradient-boosted classifier trained to tell real from "
                 "synthetic rows, scored on rows it did not train on.", _detector_section(metrics, run_dir)),
                ("columns", "Columns", "", _columns_section(metrics, schema)),
                ("associations", "Associations", "", _associations_section(metrics)),
                ("privacy", "Privacy", "", _privacy_section(metrics)),
                ("utility", "Utility", "", _utility_section(metrics))]
    body = [f"<h1>Adversarial evaluation: {_esc(title)}</h1>",
            f"<p class=note>advsynth {_esc((metrics.get('versions') or {}).get('advsynth', ''))} · "
            f"{fmt_num(metrics['n_real'])} real rows · {fmt_num(metrics['n_synthetic'])} synthetic rows · "
            f"generator {_esc(metrics['generator'])}</p>"]
    for anchor, heading, intro, content in sections:
        body.append(f'<section id="{anchor}"><h2>{_esc(heading)}</h2>')
        if intro:
            body.append(f"<p class=note>{_esc(intro)}</p>")
        body += content
        body.append("</section>")
    body.append('<section id="raw"><h2>Run configuration and metrics</h2>'
                "<p class=note>The raw files the page was drawn from, folded away.</p>")
    if run_config:
        body.append("<details><summary>config.json</summary><pre>" + _esc(json.dumps(run_config, indent=2, default=str))
                    + "</pre></details>")
    light = {k: v for k, v in metrics.items() if k != "fidelity"}
    light["fidelity"] = {k: v for k, v in (metrics.get("fidelity") or {}).items()
                         if k not in ("columns_chart", "associations", "conditional")}
    body.append("<details><summary>metrics.json (chart data left out)</summary><pre>"
                + _esc(json.dumps(light, indent=2, default=str)) + "</pre></details></section>")
    nav = [(a, h) for a, h, _, _ in sections] + [("raw", "Raw files")]
    out = run_dir / "report.html"
    from .io import write_text_atomic

    write_text_atomic(out, _page(f"advsynth report: {title}", nav, body))
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

    from .bench import privacy_cell

    rows = [(r["dataset"], r["generator"], r["seeds"], r["auc_mean"], r["auc_sd"], r["auc_t_pm"], r["delong_pm"],
             r["null_mean"], privacy_cell(r).replace("**", ""), r["fit_s"], r["sample_s"], r["detect_s"], r["rows_per_s"],
             r["mean_ks"], r["mean_tvd"], r["dcr_ratio"], r["auc_gap"]) for _, r in summary.iterrows()]
    title = f"Benchmark {info.get('config', {}).get('name', bench_dir.name)}"
    body = [f"<h1>{html.escape(title)}</h1>", '<section id="auc">',
            f"<p class=note>{html.escape(str(info.get('bench_id', '')))} · {len(results)} runs · machine "
            f"{html.escape(json.dumps(info.get('machine', {})))}</p>",
            "<h2>Detector AUC by generator</h2>", _img(auc_png, "detector AUC by generator and dataset"),
            "<p class=note>Lower is better: 0.5 means the detector cannot tell synthetic from real rows. Error bars are "
            "the 95 % Student-t interval of the mean over generator seeds (with one seed, the run's DeLong interval, "
            "which covers split noise only); the dashed line is the real-vs-real null AUC.</p>",
            '</section><section id="speed">', "<h2>Speed</h2>", _img(time_png, "fit time and sampling throughput"),
            '</section><section id="summary">', "<h2>Summary table</h2>",
            _table(rows, ("dataset", "generator", "seeds", "AUC mean", "seed SD", "± t95 (seeds)", "± DeLong (split)",
                          "null AUC", "privacy", "fit s", "sample s", "detect s", "rows/s", "mean KS", "mean TVD", "DCR ratio",
                          "TSTR AUC gap")),
            "<p class=note>Seed SD and ± t95 are the AUC's spread across generator seeds; ± DeLong is the mean half "
            "width of the runs' DeLong intervals, which cover only the detector's split noise for one synthetic draw "
            "and not the generator's seed-to-seed variation: compare generators by both. Privacy: the second "
            "adversary's verdict, flagged on how many seeds and by which tests.</p>",
            '</section><section id="runs">', "<h2>Runs</h2>",
            "<p class=note>One row per run, linked to its report where 'advsynth report' wrote one "
            "(runs/NAME/report.html).</p>"]
    run_rows = []
    for _, r in results.iterrows():
        link = f"{r['run_dir']}/report.html"
        exists = (bench_dir / link).exists()
        flagged = r.get("privacy_flagged")
        if flagged is None or (isinstance(flagged, float) and math.isnan(flagged)):
            privacy = "–"
        elif str(flagged).lower() in ("true", "1"):
            privacy = "FLAGGED: " + str(r.get("privacy_flags") or "").replace(",", ", ")
        else:
            privacy = "clean"
        run_cell = (_Html(f'<a href="{html.escape(link)}">report</a>') if exists
                    else _Html(html.escape(str(r["run_dir"])) + " (no report yet)"))
        run_rows.append((str(r["dataset"]), str(r["generator"]), int(r["seed"]), _Html(fmt_auc(r["roc_auc"])), privacy,
                         run_cell))
    body.append(_table(run_rows, ("dataset", "generator", "seed", "AUC", "privacy", "run")))
    body.append("</section>")
    out = bench_dir / "comparison.html"
    from .io import write_text_atomic

    write_text_atomic(out, _page(title, [("auc", "Detector AUC"), ("speed", "Speed"), ("summary", "Summary table"),
                                         ("runs", "Runs")], body))
    return out

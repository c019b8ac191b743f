"""Reports, checked as a person sees them: rendered by headless Chromium, charts decoded.

Chromium comes from Debian (``apt-get install -y chromium``); without it the rendering
tests are skipped with that instruction.
"""

from __future__ import annotations

import base64
import html as htmllib
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from advsynth.bench import BenchConfig, DatasetSpec, GeneratorSpec, run_benchmark  # noqa: E402
from advsynth.config import DataConfig, RunConfig  # noqa: E402
from advsynth.report import write_comparison, write_report  # noqa: E402
from advsynth.run import run  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install -y chromium")


def render_dom(page: Path, tmp_path: Path) -> str:
    """The DOM after Chromium loaded the page (what a reader's browser shows)."""
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


def images(dom: str) -> dict[str, bytes]:
    """alt text -> decoded PNG bytes of every embedded image."""
    out = {}
    for tag in re.findall(r"<img\b[^>]*>", dom):
        src = re.search(r'src="data:image/png;base64,([^"]+)"', tag)
        alt = re.search(r'alt="([^"]*)"', tag)
        assert src and alt, f"an image is not an embedded PNG: {tag[:200]}"
        out[htmllib.unescape(alt.group(1))] = base64.b64decode(src.group(1), validate=True)
    return out


def charted_columns(dom: str) -> list[str]:
    """The column of every per-column chart (``<figure data-column=...>``) that holds a drawing."""
    out = []
    for attrs, inner in re.findall(r"<figure\b([^>]*)>(.*?)</figure>", dom, flags=re.S):
        name = re.search(r'data-column="([^"]*)"', attrs)
        if name and "<svg" in inner and "<rect" in inner:
            out.append(htmllib.unescape(name.group(1)))
    return out


def headings(dom: str, level: int) -> list[str]:
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
            for h in re.findall(rf"<h{level}\b[^>]*>(.*?)</h{level}>", dom, flags=re.S)]


def assert_png(data: bytes, min_bytes: int = 2000) -> None:
    assert data.startswith(PNG_MAGIC) and len(data) > min_bytes
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 100 and height > 100


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory) -> Path:
    """A two-generator benchmark on the wine table (178 rows), extras on, small detector."""
    out = tmp_path_factory.mktemp("bench") / "b"
    cfg = BenchConfig(name="report-test", seeds=[0, 1], datasets=[DatasetSpec("wine", "sklearn", "wine")],
                      generators=[GeneratorSpec("baseline", "baseline"),
                                  GeneratorSpec("gmm_bic", "gmm", {"criterion": "bic", "max_components": 4})],
                      detector={"rounds": 20, "nthread": 1}, extras=True)
    run_benchmark(cfg, out, progress=None)
    return out


SECTIONS = ["Summary", "Detector", "Columns", "Associations", "Privacy", "Utility", "Run configuration and metrics"]


@needs_chromium
def test_run_report_renders_every_chart(bench_dir, tmp_path):
    run_dir = bench_dir / "runs" / "wine-gmm_bic-s0"
    page = write_report(run_dir)
    assert page == run_dir / "report.html"
    dom = render_dom(page, tmp_path)
    assert headings(dom, 1) == ["Adversarial evaluation: gmm_bic on wine (seed 0)"]
    assert headings(dom, 2) == SECTIONS
    imgs = images(dom)
    # both curves are drawn, the null from the benchmark's shared real-vs-real detector
    roc = [alt for alt in imgs if alt.startswith("ROC curves: ")]
    assert len(roc) == 1 and "detector: real vs synthetic (AUC" in roc[0] and "null: real vs real (AUC" in roc[0]
    for data in imgs.values():
        assert_png(data)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    columns = list(metrics["fidelity"]["columns_chart"])
    assert sorted(charted_columns(dom)) == sorted(columns) and len(columns) >= 13
    assert "Not in this run folder" not in dom
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", dom))
    for label in ("DCR share", "TSTR (synthetic)", "mean KS", "membership attack ROC-AUC"):
        assert label in text


@needs_chromium
def test_comparison_page_renders(bench_dir, tmp_path):
    write_report(bench_dir / "runs" / "wine-baseline-s1")
    page = write_comparison(bench_dir)
    dom = render_dom(page, tmp_path)
    assert headings(dom, 1) == ["Benchmark report-test"]
    assert headings(dom, 2) == ["Detector AUC by generator", "Speed", "Summary table", "Runs"]
    imgs = images(dom)
    assert set(imgs) == {"detector AUC by generator and dataset", "fit time and sampling throughput"}
    for data in imgs.values():
        assert_png(data)
    assert dom.count("<tr>") >= 2 + 1 + 4 + 1  # summary rows + header, run rows + header
    # each run links its report where one was written, relative to the benchmark folder
    assert 'href="runs/wine-baseline-s1/report.html"' in dom
    assert 'href="runs/wine-baseline-s0/report.html"' not in dom and "runs/wine-baseline-s0 (no report yet)" in dom
    # the privacy verdict of every run (clean or FLAGGED with its tests)
    results = pd.read_csv(bench_dir / "results.csv")
    verdicts = re.findall(r'<td class="text">(clean|FLAGGED[^<]*)</td>', dom)
    assert len(verdicts) >= len(results)
    assert verdicts.count("clean") >= int((~results["privacy_flagged"].astype(bool)).sum())


def test_run_folder_reports_everything_and_says_what_is_missing(mixed, tmp_path):
    """A folder from 'advsynth run' carries its scores and chart data; without them the page says what is missing."""
    csv = tmp_path / "mixed.csv"
    mixed.to_csv(csv, index=False)
    cfg = RunConfig(data=DataConfig(path=str(csv)), name="mixed", generator="baseline",
                    detector={"rounds": 10, "nthread": 1})
    run(cfg, tmp_path / "run")
    full = write_report(tmp_path / "run").read_text()
    assert "Not in this run folder" not in full and "null: real vs real (AUC" in full
    # the saved scores lost: the ROC section says so, the rest is drawn as before
    (tmp_path / "run" / "scores.csv").unlink()
    text = write_report(tmp_path / "run").read_text()
    assert "Not in this run folder: scores.csv" in text and "ROC curves:" not in text
    assert sorted(charted_columns(text)) == sorted(mixed.columns)


def test_report_renders_only_never_reads_the_real_table(mixed, tmp_path, monkeypatch):
    """The report is drawn from the run folder alone: with the real table gone and every stage that
    could recompute a figure booby-trapped, it still writes, and an old folder (metrics.json from before
    the chart data existed) gets its page with a line per missing figure instead of a recomputation."""
    import advsynth.detection
    import advsynth.metrics.evaluate
    import advsynth.run

    csv = tmp_path / "mixed.csv"
    mixed.to_csv(csv, index=False)
    cfg = RunConfig(data=DataConfig(path=str(csv)), name="mixed", generator="baseline", target="group",
                    detector={"rounds": 10, "nthread": 1})
    metrics = run(cfg, tmp_path / "run")
    csv.unlink()

    def trap(*args, **kwargs):
        raise AssertionError("the report recomputed a stage")

    for module, name in ((advsynth.run, "load_real"), (advsynth.metrics.evaluate, "evaluate_extras"),
                         (advsynth.metrics.evaluate, "report_figures"), (advsynth.detection, "detect")):
        monkeypatch.setattr(module, name, trap)
    page = write_report(tmp_path / "run").read_text()
    assert sorted(charted_columns(page)) == sorted(mixed.columns)
    # the figures shown are the run's own, formatted
    dcr = metrics["privacy"]["dcr"]
    assert f"{dcr['share'] * 100:.1f} %" in page or f"{dcr['share'] * 100:.3g} %" in page
    # an old run folder: no chart data, associations or references
    path = tmp_path / "run" / "metrics.json"
    old = json.loads(path.read_text())
    for key in ("columns_chart", "associations", "reference"):
        old["fidelity"].pop(key)
    path.write_text(json.dumps(old))
    page = write_report(tmp_path / "run").read_text()
    assert "Not in this run folder: per-column chart data" in page
    assert "Not in this run folder: all-type association matrices" in page
    assert charted_columns(page) == [] and "reference: not in this run folder" in page
    # the numeric Spearman matrices an old run did save are still drawn
    assert 'data-matrix="real"' in page


@pytest.mark.parametrize("damage", ["metrics", "scores", "scores_columns"])
def test_report_on_damaged_files_is_one_cli_line(mixed, tmp_path, capsys, damage):
    from advsynth.cli import main

    csv = tmp_path / "mixed.csv"
    mixed.to_csv(csv, index=False)
    cfg = RunConfig(data=DataConfig(path=str(csv)), name="mixed", generator="baseline", extras=False,
                    detector={"rounds": 10, "nthread": 1})
    run(cfg, tmp_path / "run")
    if damage == "metrics":
        path = tmp_path / "run" / "metrics.json"
        path.write_text(path.read_text()[:200])       # truncated mid-object
    elif damage == "scores":
        path = tmp_path / "run" / "scores.csv"
        path.write_bytes(b'model,y,score\ndetector,1,0.5\n"unterminated,0,\x00\n' * 3)
    else:
        path = tmp_path / "run" / "scores.csv"
        path.write_text("model,label\ndetector,1\n")
    assert main(["report", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("advsynth: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert path.name in err
    assert not (tmp_path / "run" / "report.html").exists()


def test_report_shows_giveaways_and_k_at_edge(mixed, tmp_path):
    """Giveaway levels/rows and a GMM k at the edge of its sweep reach the page when metrics.json has them."""
    import json

    csv = tmp_path / "mixed.csv"
    mixed.to_csv(csv, index=False)
    # max_components 2: the AIC sweep on this table picks the largest k it may
    cfg = RunConfig(data=DataConfig(path=str(csv)), name="mixed", generator="gmm", extras=False,
                    generators={"gmm": {"min_components": 1, "max_components": 2, "n_candidates": 2}},
                    detector={"rounds": 20, "nthread": 1})
    metrics = run(cfg, tmp_path / "run")
    page = write_report(tmp_path / "run").read_text()
    giveaways = metrics["detector"]["giveaways"]
    assert giveaways["rows"] and giveaways["levels"]
    assert "Which levels and rows give the fakes away" in page
    for column in giveaways["levels"]:
        assert f"{column}: " in page
    top = giveaways["rows"][0]
    assert f'<td class="text">{top["score"]:.3f}</td>' in page
    edge = metrics["generator_fit"]["k_at_edge"]
    if edge:
        assert "k at the edge" in page and f"k = {metrics['generator_fit']['k_chosen']}" in page
    else:
        assert "k at the edge" not in page
    # the flag alone decides: rewrite it both ways
    path = tmp_path / "run" / "metrics.json"
    for flag in ("max", None):
        data = json.loads(path.read_text())
        data["generator_fit"]["k_at_edge"] = flag
        path.write_text(json.dumps(data))
        assert ("k at the edge" in write_report(tmp_path / "run").read_text()) == (flag is not None)


# --------------------------------------------------------------------------- the Adult report, as a reader sees it

PROBE = """<script>
(function () {
  var root = document.documentElement, width = window.innerWidth, wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    // inside a box that scrolls on its own, wide content is the box's business, not the page's
    if (el.closest(".box") && !el.classList.contains("box")) return;
    if (el.getBoundingClientRect().right > width + 0.5) wide.push(el.tagName + "." + el.className);
  });
  var clipped = [];
  document.querySelectorAll("figure.col").forEach(function (fig) {
    var svg = fig.querySelector("svg");
    if (svg && svg.getBoundingClientRect().right > fig.getBoundingClientRect().right + 0.5)
      clipped.push(fig.getAttribute("data-column"));
  });
  document.body.setAttribute("data-probe", JSON.stringify({scrollWidth: root.scrollWidth, innerWidth: width,
                                                           wide: wide.slice(0, 5), clipped: clipped}));
})();
</script>"""


def chromium_cmd(tmp_path: Path, *args: str) -> list[str]:
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium-layout'}", *args]


def layout(page: Path, tmp_path: Path, width: int = 1400) -> dict:
    """Chromium's layout of ``page`` at ``width`` px: the document's scroll width against the viewport,
    elements whose right edge passes it (outside scroll boxes), and column charts wider than their box."""
    probed = tmp_path / f"probed-{page.stem}.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    done = subprocess.run(chromium_cmd(tmp_path, f"--window-size={width},1000", "--dump-dom", probed.resolve().as_uri()),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, "the layout probe did not run"
    return json.loads(htmllib.unescape(found.group(1)))


def assert_fits(result: dict) -> None:
    assert result["innerWidth"] == 1400
    assert result["scrollWidth"] <= result["innerWidth"], f"horizontal overflow: {result}"
    assert not result["wide"] and not result["clipped"], result


@pytest.fixture(scope="module")
def adult_report(tmp_path_factory) -> tuple[Path, Path]:
    """The README's main run on Adult (the GMM, extras on), then its report; (run folder, page)."""
    from advsynth.cli import main
    from conftest import ADULT_CONFIG

    out = tmp_path_factory.mktemp("adult-report") / "gmm"
    assert main(["run", "--config", str(ADULT_CONFIG), "--generator", "gmm", "--out", str(out)]) == 0
    started = time.perf_counter()
    page = write_report(out)
    out.joinpath("report_seconds").write_text(f"{time.perf_counter() - started:.2f}")
    return out, page


ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]


@pytest.mark.e2e
@needs_chromium
def test_adult_report_fits_1400px_and_charts_every_column(adult_report, tmp_path):
    run_dir, page = adult_report
    assert page.stat().st_size <= 3 * 1024 * 1024
    assert float((run_dir / "report_seconds").read_text()) < 20
    started = time.perf_counter()
    result = layout(page, tmp_path)
    assert time.perf_counter() - started < 30  # Chromium starts, loads and lays out the page
    assert_fits(result)
    dom = render_dom(page, tmp_path)
    assert headings(dom, 1) == ["Adversarial evaluation: gmm on adult (seed 0)"]
    assert headings(dom, 2) == SECTIONS
    assert "real_ori" not in headings(dom, 1)[0] and "adult.data" not in headings(dom, 1)[0]
    # every one of Adult's 15 columns has its chart, in the table's order, numeric ones as histograms
    assert charted_columns(dom) == ADULT_COLUMNS
    kinds = dict(re.findall(r'<figure class="col" data-column="([^"]+)" data-kind="([^"]+)"', dom))
    assert kinds["capital-gain"] == "integer" and kinds["workclass"] == "categorical"
    # the zero-inflated column shows its 0 as a bar of its own
    cg = re.search(r'data-column="capital-gain".*?</figure>', dom, flags=re.S).group(0)
    assert "= 0</text>" in cg and "<path" in cg
    # all-type association matrices: real, synthetic and difference, 15 x 15 cells each
    for name in ("real", "synthetic", "difference"):
        svg = re.search(rf'<svg[^>]*data-matrix="{name}".*?</svg>', dom, flags=re.S)
        assert svg and svg.group(0).count("<rect") == 15 * 15, name
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", dom))
    assert "Cramér's V" in text and "correlation ratio" in text and "Spearman" in text
    # every headline carries its real-vs-real reference
    cards = re.findall(r'<div class="card[^"]*">(.*?)</div></div>', dom, flags=re.S)
    assert len(cards) >= 6
    for card in cards:
        assert "reference" in card, card
    # no raw float formatting anywhere a reader looks (the folded raw JSON aside)
    visible = text.split("Run configuration and metrics")[0]
    assert not re.search(r"\d\.\d+e[-+]\d\d", visible), re.search(r".{40}\d\.\d+e[-+]\d\d.{20}", visible)
    # the raw JSON is folded away, at the end
    assert dom.count("<details") == 2 and dom.rindex("<details") > dom.index('id="utility"')


@pytest.mark.e2e
@needs_chromium
def test_adult_report_screenshot_at_1400px(adult_report, tmp_path):
    """The page as a reader sees it (top and column section), written as PNG next to the report."""
    _, page = adult_report
    shot = page.parent / "report-1400.png"
    done = subprocess.run(chromium_cmd(tmp_path, "--window-size=1400,9000", f"--screenshot={shot}",
                                       page.resolve().as_uri()), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert_png(data, min_bytes=50_000)
    assert int.from_bytes(data[16:20], "big") == 1400


@needs_chromium
def test_layout_probe_catches_overflow(tmp_path):
    """The overflow check can fail: a page wider than the viewport is caught."""
    page = tmp_path / "wide.html"
    page.write_text('<html><body><div style="width:2400px">too wide</div></body></html>')
    result = layout(page, tmp_path)
    assert result["scrollWidth"] > 1400 and result["wide"]
    with pytest.raises(AssertionError, match="horizontal overflow"):
        assert_fits(result)


# --------------------------------------------------------------------------- the figures the fidelity stage stores


def test_numeric_chart_gives_point_masses_their_own_bar_and_sums_to_one():
    import numpy as np

    from advsynth.metrics.fidelity import numeric_chart

    rng = np.random.default_rng(0)
    real = np.where(rng.random(5000) < 0.9, 0.0, rng.lognormal(8, 1, 5000)).round()
    real[:100] = np.nan
    synthetic = np.where(rng.random(4000) < 0.5, 0.0, rng.lognormal(8, 1, 4000)).round()
    chart = numeric_chart(real, synthetic, integer=True)
    assert [p["value"] for p in chart["points"]] == [0.0]
    assert chart["points"][0]["real"] == pytest.approx(np.mean(real == 0), abs=1e-4)
    assert chart["points"][0]["synthetic"] == pytest.approx(np.mean(synthetic == 0), abs=1e-4)
    for side in ("real", "synthetic"):
        total = sum(chart[side]) + chart["points"][0][side] + chart["missing"][side]
        assert total == pytest.approx(1.0, abs=1e-3)
    assert chart["missing"]["real"] == pytest.approx(0.02, abs=1e-4)
    edges = chart["edges"]
    assert 10 <= len(edges) - 1 <= 40 and all(b > a for a, b in zip(edges, edges[1:]))
    # the bins cover the positive values, not the zero
    assert edges[0] > 0
    # few distinct integers: one bar per value
    small = numeric_chart(rng.integers(1, 6, 500).astype(float), rng.integers(1, 7, 500).astype(float), integer=True)
    assert [p["value"] for p in small["points"]] == [1, 2, 3, 4, 5] and small["edges"] == []


def test_categorical_chart_keeps_top_levels_then_other():
    import numpy as np

    from advsynth.metrics.fidelity import MISSING_LEVEL, categorical_chart

    real = np.array([f"l{i}" for i in range(20) for _ in range(20 - i)] + [MISSING_LEVEL] * 5, dtype=object)
    synthetic = np.array(["l0"] * 50 + ["invented"] * 50, dtype=object)
    chart = categorical_chart(real, synthetic, top=5)
    assert chart["levels"] == ["l0", "l1", "l2", "l3", "l4", "(other)", "(missing)"]
    assert sum(chart["real"]) == pytest.approx(1.0, abs=1e-4) and sum(chart["synthetic"]) == pytest.approx(1.0, abs=1e-4)
    assert chart["synthetic"][0] == 0.5 and chart["synthetic"][5] == 0.5  # the invented level is "other"
    assert chart["n_levels_real"] == 20


def test_association_matrix_covers_every_type_pair():
    import numpy as np
    import pandas as pd

    from advsynth.metrics.fidelity import association_matrix

    rng = np.random.default_rng(1)
    n = 3000
    group = rng.choice(["a", "b", "c"], n)
    x = pd.Series(group).map({"a": 0.0, "b": 10.0, "c": 20.0}).to_numpy() + rng.normal(0, 0.1, n)
    frame = pd.DataFrame({"x": x, "x_cubed": x ** 3, "noise": rng.normal(size=n), "group": group,
                          "group_copy": np.char.upper(group.astype(str)), "coin": rng.choice(["h", "t"], n)})
    cols = list(frame.columns)
    m = association_matrix(frame, cols, numeric={"x", "x_cubed", "noise"})
    at = lambda a, b: m[cols.index(a), cols.index(b)]  # noqa: E731
    assert at("x", "x_cubed") == pytest.approx(1.0, abs=1e-6)        # Spearman: monotone
    assert abs(at("x", "noise")) < 0.06
    assert at("x", "group") > 0.99 and at("group", "x") == at("x", "group")  # η: the group sets x
    assert at("noise", "group") < 0.06
    assert at("group", "group_copy") > 0.99                           # Cramér's V
    assert at("group", "coin") < 0.06
    assert np.allclose(np.diag(m), 1.0)


def test_numbers_read_like_numbers():
    from advsynth.report import fmt_num, fmt_p, fmt_pct

    assert fmt_num(3.071e-05) == "3.1 × 10⁻⁵" and fmt_num(1.4847e06) == "1,484,700" and fmt_num(32561) == "32,561"
    assert fmt_num(0.0041812) == "0.00418" and fmt_num(0.09999) == "0.1" and fmt_num(None) == "–"
    assert fmt_pct(0.91671) == "91.7 %" and fmt_pct(3.071e-05) == "0.00307 %" and fmt_pct(0.09999) == "10.0 %"
    assert fmt_p(0.0) == "p < 10⁻³⁰⁰" and fmt_p(6.44e-06) == "p = 6.4 × 10⁻⁶" and fmt_p(0.3085) == "p = 0.31"

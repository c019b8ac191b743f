"""Reports, checked as a person sees them: rendered by headless Chromium, charts decoded.

Chromium comes from Debian (``apt-get install -y chromium``); without it the rendering
tests are skipped with that instruction.
"""

from __future__ import annotations

import base64
import html as htmllib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from advsynth.bench import BenchConfig, DatasetSpec, GeneratorSpec, run_benchmark  # noqa: E402
from advsynth.config import DataConfig, RunConfig  # noqa: E402
from advsynth.errors import AdvsynthError  # noqa: E402
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


@needs_chromium
def test_run_report_renders_every_chart(bench_dir, tmp_path):
    page = write_report(bench_dir / "runs" / "wine-gmm_bic-s0")
    assert page == bench_dir / "runs" / "wine-gmm_bic-s0" / "report.html"
    dom = render_dom(page, tmp_path)
    assert headings(dom, 1) == ["Adversarial evaluation: gmm_bic on wine (seed 0)"]
    assert headings(dom, 2) == ["Detector ROC curve", "Column importance", "Real vs synthetic: top giveaway columns",
                                "Which levels and rows give the fakes away", "Correlation difference",
                                "Privacy and utility", "Run configuration and metrics"]
    imgs = images(dom)
    assert {"column importance bar chart", "correlation difference heatmap"} <= set(imgs)
    # both curves are drawn, the null from the benchmark's shared real-vs-real detector
    roc = [alt for alt in imgs if alt.startswith("ROC curves: ")]
    assert len(roc) == 1 and "detector: real vs synthetic (AUC" in roc[0] and "null: real vs real (AUC" in roc[0]
    assert sum(alt.startswith("marginal of ") for alt in imgs) == 3
    for data in imgs.values():
        assert_png(data)
    assert "Unavailable" not in dom
    # the recomputed ROC matches the run's AUC (else the page says so)
    assert "Recomputed from synthetic.csv" not in dom
    text = re.sub(r"<[^>]+>", " ", dom)
    for label in ("DCR ratio", "TSTR AUC (train synthetic, test real)", "mean ks"):
        assert label in htmllib.unescape(text)


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
    assert 'href="runs/wine-baseline-s1/report.html"' in dom


def test_run_folder_reports_everything_and_says_what_is_missing(mixed, tmp_path):
    """A folder from 'advsynth run' carries its scores and config; without them the page says what is missing."""
    csv = tmp_path / "mixed.csv"
    mixed.to_csv(csv, index=False)
    cfg = RunConfig(data=DataConfig(path=str(csv)), name="mixed", generator="baseline",
                    detector={"rounds": 10, "nthread": 1})
    run(cfg, tmp_path / "run")
    full = write_report(tmp_path / "run").read_text()
    assert "Unavailable" not in full and "null: real vs real (AUC" in full
    # the real table moved away and the saved scores lost: sections that need them say so
    csv.unlink()
    (tmp_path / "run" / "scores.csv").unlink()
    text = write_report(tmp_path / "run").read_text()
    assert "column importance bar chart" in text and text.count("Unavailable") >= 2
    assert "ROC curves:" not in text


def test_report_errors_are_one_line(tmp_path):
    with pytest.raises(AdvsynthError, match="no metrics.json"):
        write_report(tmp_path)
    with pytest.raises(AdvsynthError, match="no results.csv"):
        write_comparison(tmp_path)


def test_recomputed_extras_use_the_runs_own_holdout(mixed, tmp_path, monkeypatch):
    """A run folder without extras gets them recomputed on the split the generator was fitted on
    (the run's seed and holdout share from config.json), so they equal what the run itself writes."""
    import json

    import advsynth.metrics.evaluate as evaluate_mod

    csv = tmp_path / "mixed.csv"
    mixed.to_csv(csv, index=False)
    cfg = RunConfig(data=DataConfig(path=str(csv)), name="mixed", generator="baseline", seed=3, holdout=0.2,
                    target="group", detector={"rounds": 10, "nthread": 1})
    metrics = run(cfg, tmp_path / "run")
    run_dir = tmp_path / "run"
    stripped = {k: v for k, v in metrics.items() if k not in ("fidelity", "privacy", "utility")}
    (run_dir / "metrics.json").write_text(json.dumps(stripped))
    seen = []
    original = evaluate_mod.evaluate_extras

    def spy(real, synthetic, schema, target, seed, **kwargs):
        seen.append((len(real), seed, kwargs.get("split")))
        return original(real, synthetic, schema, target, seed, **kwargs)

    monkeypatch.setattr(evaluate_mod, "evaluate_extras", spy)
    text = write_report(run_dir).read_text()
    (n_real, seed, split), = seen
    assert seed == 3 and split is not None
    train, hold = split
    assert len(hold) == metrics["n_holdout"] and len(train) == metrics["n_generator_train"]
    expected_train, _ = evaluate_mod.split_real(mixed, 3, 0.2)
    assert sorted(train.index) == sorted(expected_train.index)
    # the figures the page shows are the run's own (same split), e.g. the DCR medians
    dcr = metrics["privacy"]["dcr"]
    for value in (dcr["synthetic_median"], dcr["holdout_median"]):
        assert f"{value:.4g}" in text


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
    assert f"<td>{top['score']:.3f}</td>" in page
    edge = metrics["generator_fit"]["k_at_edge"]
    if edge:
        assert "k at the edge" in page and f"k = {metrics['generator_fit']['n_components']}" in page
    else:
        assert "k at the edge" not in page
    # the flag alone decides: rewrite it both ways
    path = tmp_path / "run" / "metrics.json"
    for flag in ("max", None):
        data = json.loads(path.read_text())
        data["generator_fit"]["k_at_edge"] = flag
        path.write_text(json.dumps(data))
        assert ("k at the edge" in write_report(tmp_path / "run").read_text()) == (flag is not None)

"""Detector-guided selection: which rows it reads, determinism, and what metrics.json reports."""

import json

import numpy as np
import pytest

from advsynth.cli import main
from advsynth.config import DataConfig, RunConfig
from advsynth.experiment.splits import split_real
from advsynth.protocol import DetectorConfig
from advsynth.run import run
from advsynth.schema import infer_schema
from advsynth.synthesizers import adversarial
from advsynth.experiment.trace import trace
from advsynth.synthesizers.adversarial import gmm_params, select_by_detector
from conftest import make_mixed

STAGES = (({"n_components": 2}, {"n_components": 4}), ({"latent_min_levels": 1},))
SMALL = {"n_candidates": 2, "max_iter": 50}
FAST = DetectorConfig(rounds=40, early_stopping_rounds=10)


@pytest.fixture(autouse=True)
def small_tables_may_search(monkeypatch):
    monkeypatch.setattr(adversarial, "MIN_VALIDATION_ROWS", 50)


def test_selection_reads_only_the_training_rows_and_never_the_holdout(monkeypatch):
    real = make_mixed(1200)  # enough rows that some candidate beats the configured one (the privacy check runs)
    schema = infer_schema(real)
    train, holdout = split_real(real, seed=0, holdout=0.2)
    seen = []  # every real table the selection hands to the detector or to a generator's fit
    real_detect, real_fit = adversarial.detect, adversarial.GMMSynthesizer.fit
    monkeypatch.setattr(adversarial, "detect", lambda r, s, *a, **k: seen.append(r.index) or real_detect(r, s, *a, **k))
    real_refit = adversarial.GMMSynthesizer.refit_redraw
    monkeypatch.setattr(adversarial.GMMSynthesizer, "fit",
                        lambda self, df, *a, **k: seen.append(df.index) or real_fit(self, df, *a, **k))
    monkeypatch.setattr(adversarial.GMMSynthesizer, "refit_redraw",
                        lambda self, df, *a, **k: seen.append(df.index) or real_refit(self, df, *a, **k))
    with trace() as stages_called:
        sel = select_by_detector(train, schema, FAST, base_params=SMALL, stages=STAGES, seed=0)
    # the search judges with the experiment's own stages: its split, the detector's, the privacy adversary
    assert {"selection_split", "detector.features", "detector.split", "detector.fit", "detector.score",
            "privacy"} <= set(stages_called)
    stage = [c for c in sel.candidates if not {"redraw", "redraw_sweeps"} & set(c["settings"])]
    refits = [c for c in sel.candidates if "redraw" in c["settings"] and "redraw_sweeps" not in c["settings"]]
    # each stage candidate is one fit and one detector; a redraw round refits the trees only; more
    # sweeps of the redraw (from the auto columns or the rounds' winner) refit nothing
    assert len(stage) == 4 and len(refits) >= 1 and len(seen) == 4 + len(refits) + len(sel.candidates)
    touched = np.unique(np.concatenate([np.asarray(i) for i in seen]))
    assert set(touched) <= set(train.index) and not set(touched) & set(holdout.index)
    assert not set(sel.fit_index) & set(sel.validation_index)  # candidates are judged on rows they did not fit
    # the chosen candidate's AUC; no candidate allowed to win (copies, privacy) was lower by more
    # than a winner's margin (the standard error of the best AUC it was compared with)
    assert sel.selection_auc == next(c["auc"] for c in sel.candidates if c["settings"] == sel.chosen)
    margin = max(c["auc_se"] for c in sel.candidates)
    assert 0 < margin < 0.1
    assert all(c["auc"] >= sel.selection_auc - margin for c in sel.candidates if c["eligible"])


def test_a_gain_within_the_best_auc_s_noise_does_not_win():
    def candidate(auc, se=0.01):
        return adversarial.Candidate({}, auc, 0.0, True, 0.0, None, auc_se=se)

    best = candidate(0.60)
    # lower, but by less than the best's standard error: refused before any privacy check (no judge needed)
    assert not adversarial._wins(None, candidate(0.595), best)
    assert not adversarial._wins(None, candidate(0.5901), best)  # just under one standard error


def test_selection_is_deterministic_and_params_fix_k():
    real = make_mixed(600)
    schema = infer_schema(real)
    a = select_by_detector(real, schema, FAST, base_params=SMALL, stages=STAGES, seed=3)
    b = select_by_detector(real, schema, FAST, base_params=SMALL, stages=STAGES, seed=3)
    assert a.chosen == b.chosen and [c["auc"] for c in a.candidates] == [c["auc"] for c in b.candidates]
    assert gmm_params({"n_components": 7, "pca_variance": 0.9}, {"max_iter": 5}) == {
        "max_iter": 5, "min_components": 7, "max_components": 7, "pca_variance": 0.9}


def test_adversarial_run_reports_selection_and_fresh_aucs(tmp_path, monkeypatch):
    monkeypatch.setattr(adversarial, "DEFAULT_STAGES", STAGES)
    monkeypatch.setattr(adversarial, "BASE_SETTINGS", {"n_components": 3, "pca_variance": 0.99, "latent_min_levels": 20})
    csv = tmp_path / "mixed.csv"
    make_mixed(800).to_csv(csv, index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: m\ndata: {{path: {csv}}}\nadversarial: true\ngenerators: {{gmm: {json.dumps(SMALL)}}}\n"
                   "detector: {rounds: 40, early_stopping_rounds: 10, 'null': false}\nextras: false\n")
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "run")]) == 0
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    adv = m["adversarial"]
    assert adv["fresh_auc"] == m["detector"]["roc_auc"]
    assert 0 <= adv["selection_auc"] <= 1 and 0 <= adv["fresh_holdout_auc"] <= 1
    assert len([c for c in adv["candidates"] if not {"redraw", "redraw_sweeps"} & set(c["settings"])]) == 4
    assert adv["chosen"] in [c["settings"] for c in adv["candidates"]]
    assert adv["chosen"]["n_components"] in ("configured", m["generator_params"]["max_components"])
    assert adv["n_selection_fit"] + adv["n_selection_validation"] == m["n_generator_train"]


def test_adversarial_is_a_config_key_and_needs_the_gmm(tmp_path):
    from advsynth.errors import ConfigError

    data = DataConfig(path=str(tmp_path / "x.csv"))
    make_mixed(200).to_csv(data.path, index=False)
    with pytest.raises(ConfigError, match="adversarial must be true or false"):
        RunConfig(data=data, adversarial="yes")
    with pytest.raises(ConfigError, match="gmm's own 'refine' parameter"):  # the earlier mode names its successor
        RunConfig(data=data, adversarial="refine")
    with pytest.raises(ConfigError, match="adversarial mode"):
        run(RunConfig(data=data, adversarial=True, generator="baseline"))


def test_too_few_validation_rows_skip_the_search(monkeypatch):
    monkeypatch.setattr(adversarial, "MIN_VALIDATION_ROWS", 500)
    real = make_mixed(600)
    sel = select_by_detector(real, infer_schema(real), FAST, base_params=SMALL, stages=STAGES, seed=0)
    assert sel.skipped and sel.candidates == [] and sel.chosen == {} and sel.best_generator is None


def test_a_candidate_that_copies_rows_cannot_win(monkeypatch):
    """Draws that replay the selection-fit rows look real to the detector; the privacy guard refuses them."""
    real = make_mixed(900)
    schema = infer_schema(real)
    real_sample = adversarial.GMMSynthesizer.sample

    def replay_when_k4(self, n, random_state=None):
        if self.max_components == 4:  # this candidate "memorises": its draws are its training rows
            return self._rows_.sample(n, replace=True, random_state=0).reset_index(drop=True)
        return real_sample(self, n, random_state)

    real_fit = adversarial.GMMSynthesizer.fit
    monkeypatch.setattr(adversarial.GMMSynthesizer, "fit", lambda self, df, *a, **k: (
        setattr(self, "_rows_", df), real_fit(self, df, *a, **k))[1])
    monkeypatch.setattr(adversarial.GMMSynthesizer, "sample", replay_when_k4)
    sel = select_by_detector(real, schema, FAST, base_params=SMALL, stages=STAGES, seed=0)
    copier = [c for c in sel.candidates if c["settings"]["n_components"] == 4]
    assert copier and copier[0]["exact_copy_rate"] > 0.9 and not copier[0]["eligible"]
    assert sel.chosen["n_components"] != 4


def test_the_search_strengthens_refinement_one_round_at_a_time(monkeypatch):
    from advsynth.synthesizers import gmm

    monkeypatch.setattr(gmm, "MIN_REFINE_ROWS", 100)  # this small table refines
    real = make_mixed(900)
    sel = select_by_detector(real, infer_schema(real), FAST, base_params={**SMALL, "refine": 1}, stages=(), seed=0)
    tried = [c["settings"]["refine"] for c in sel.candidates if "refine" in c["settings"]]
    # one more round each time, until a round does not win or the cap is reached
    assert tried and tried == list(range(2, 2 + len(tried))) and tried[-1] <= adversarial.MAX_REFINE
    assert sel.chosen.get("refine", 1) in {1, *tried}
    off = select_by_detector(real, infer_schema(real), FAST, base_params={**SMALL, "refine": 0}, stages=(), seed=0)
    assert not [c for c in off.candidates if "refine" in c["settings"]]  # refine: 0 is the user's choice: kept

"""The experiment, written once: the stages every door (``advsynth run``, ``advsynth evaluate``,
bench, the containers, the adversarial search) composes.

* ``seeds``: the named seed streams every random choice draws from;
* ``splits``: the real table's holdout split and the adversarial search's selection split;
* ``sampling``: drawing a synthetic table in seeded blocks, whole or sharded over machines;
* ``stages``: the judging stages (the detector's verdict, the holdout-only AUC, the privacy
  adversary, the extras) and the record of which ran;
* ``folder``: the run folder, written atomically.

Kept import-light: modules import the submodule they need.
"""

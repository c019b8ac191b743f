"""The experiment's core: no import cycles, named seed streams, the stage record."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from advsynth.experiment import seeds
from advsynth.experiment.splits import RealSplit, selection_split, split_real
from advsynth.experiment.trace import stage, trace

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_imports() -> dict[str, set[str]]:
    """Every advsynth module and the advsynth modules it imports anywhere (function-level
    imports included: a cycle hidden in a function is still a cycle)."""
    files = {}
    for path in (SRC / "advsynth").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    edges = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in files else module for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            edges[name].update(t for t in targets if t in files and t != name)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycles():
    edges = _module_imports()
    assert len(edges) > 30 and edges["advsynth.run"], "the import graph was not read"
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_seed_streams_are_the_documented_derivations():
    for seed in (0, 7, 123456):
        assert seeds.seed_of(seed, "validation") == seed + 1
        assert seeds.seed_of(seed, "detector") == seed
        a = seeds.rng_of(seed, "holdout").permutation(50)
        b = np.random.default_rng(np.random.SeedSequence([seed, 7])).permutation(50)
        assert (a == b).all()
    with pytest.raises(KeyError, match="no seed stream"):
        seeds.rng_of(0, "nope")
    with pytest.raises(ValueError, match="spawned"):
        seeds.seed_of(0, "holdout")
    spawned = [s.key for s in seeds.STREAMS.values() if s.kind == "spawn"]
    assert len(spawned) == len(set(spawned)), "two spawned streams share a key: their draws would be equal"


def test_real_split_round_trips_and_refuses_another_table():
    import pandas as pd

    split = RealSplit.of(1000, 3, 0.2)
    assert len(split.holdout) == 200 and len(np.intersect1d(split.train, split.holdout)) == 0
    back = RealSplit.from_json(split.to_json(), 1000, "split.json")
    assert (back.train == split.train).all() and (back.holdout == split.holdout).all()
    real = pd.DataFrame({"x": np.arange(1000)})
    train, holdout = split_real(real, 3, 0.2)
    assert sorted(train.x.tolist() + holdout.x.tolist()) == list(range(1000))
    with pytest.raises(Exception, match="999 rows"):
        split.apply(real.iloc[:999])
    fit, validation = selection_split(train, 3)
    assert len(fit) + len(validation) == len(train) and not set(fit.index) & set(validation.index)


def test_trace_records_stages_only_inside_the_block():
    @stage("demo")
    def demo(x):
        return x + 1

    assert demo(1) == 2
    with trace() as record:
        demo(1)
        with trace() as inner:
            demo(2)
        demo(3)
    assert record == ["demo", "demo"] and inner == ["demo"]
    assert demo.stage == "demo"


def test_a_grouped_split_keeps_every_group_on_one_side():
    """Whole groups go to the holdout (seeded, about the share of rows); without groups the split
    is the row split it always was."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(400), rng.integers(1, 8, 400))
    rng.shuffle(labels)
    split = RealSplit.of(len(labels), 5, 0.2, groups=labels)
    assert not set(labels[split.train]) & set(labels[split.holdout])
    assert sorted(np.concatenate([split.train, split.holdout]).tolist()) == list(range(len(labels)))
    assert abs(len(split.holdout) - 0.2 * len(labels)) <= 7  # a group more at most
    again = RealSplit.of(len(labels), 5, 0.2, groups=labels)
    assert (again.holdout == split.holdout).all()
    assert set(RealSplit.of(len(labels), 6, 0.2, groups=labels).holdout) != set(split.holdout)
    assert (RealSplit.of(1000, 3, 0.2, groups=None).holdout == RealSplit.of(1000, 3, 0.2).holdout).all()
    two = RealSplit.of(10, 0, 0.9, groups=np.array([0] * 5 + [1] * 5))  # never every group in the holdout
    assert len(two.train) == 5 and len(two.holdout) == 5
    with pytest.raises(Exception, match="group labels"):
        RealSplit.of(10, 0, 0.2, groups=np.zeros(9))


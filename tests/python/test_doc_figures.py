"""The Table 5 figures in README.md, docs/performance.md and docs/benchmarks.md are
rendered from docs/benchmarks.json (benchmarks/doc_figures.py): the committed pages
must be exactly what the committed JSON gives, and the headline figures must not be
written anywhere else by hand."""
import copy
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from benchmarks import doc_figures  # noqa: E402


@pytest.fixture(scope="module")
def result():
    return doc_figures.load_result()


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def test_committed_pages_are_rendered_from_the_committed_json(result):
    assert doc_figures.stale_pages(result) == []


def test_a_changed_measurement_makes_every_page_stale(result):
    changed = copy.deepcopy(result)
    changed["qemu"]["aarch64"]["irnet"]["per_pass"] += 2_000_000
    changed["qemu"]["aarch64"]["irnet"]["breakdown"]["binary: bgemm kernel"] += 2_000_000
    changed["host"]["1"]["onnxruntime:fp32"]["median_ms"] *= 2
    assert sorted(doc_figures.stale_pages(changed)) == ["README.md", "docs/benchmarks.md", "docs/performance.md"]


def test_a_changed_network_or_balance_figure_makes_its_pages_stale(result):
    for change in (lambda r: r["reactnet_a"]["qemu"]["armv7"]["breakdown"].update(
                       {"binary: epilogue": r["reactnet_a"]["qemu"]["armv7"]["breakdown"]["binary: epilogue"] + 10**6}),
                   lambda r: r["reactnet_a"]["outputs"].update(differ_at_tie=r["reactnet_a"]["outputs"]["samples"]),
                   lambda r: r["bireal_resnet18"]["qemu"]["aarch64"]["breakdown"].update(
                       {"other (pools, adds, layout, runtime)": 10**6}),
                   lambda r: r["bireal_resnet18"].update(a53=1.0),
                   lambda r: r["balance"]["reactnet_a"].update(balance=1.5)):
        changed = copy.deepcopy(result)
        change(changed)
        assert sorted(doc_figures.stale_pages(changed)) == ["docs/benchmarks.md", "docs/performance.md"]


def test_bireal_parts_against_irnet_follow_the_figures(result):
    """The Bi-Real block's per-part differences from IR-Net ResNet-18 come from both
    models' counts of the same run: equal counts but for two parts give those two."""
    changed = copy.deepcopy(result)
    irnet = changed["qemu"]["aarch64"]["irnet"]
    bireal = changed["bireal_resnet18"]["qemu"]["aarch64"]
    bireal["breakdown"] = dict(irnet["breakdown"])
    bireal["breakdown"]["binary: epilogue"] += 1_250_000
    bireal["breakdown"]["float: sgemm kernel"] -= 40_000  # below the 0.05 M the line lists
    bireal["per_pass"] = irnet["per_pass"] + 1_210_000
    block = doc_figures.performance_bireal_parts(changed)
    assert "Against IR-Net ResNet-18 on aarch64: +1.21 M per pass; by part: binary: epilogue +1.25 M.\n" in block
    assert "Against IR-Net ResNet-18 on armv7: " in block


def _target_row(result, name):
    return next(line for line in doc_figures.performance_targets(result).splitlines() if line.startswith(f"| {name} |"))


def test_target_status_follows_the_figures(result):
    name = "host: onnxruntime fp32 / irnet IR-Net 1/1"
    ort = result["host"]["1"]["onnxruntime:fp32"]["median_ms"]
    for ratio, status in ((8.0, "| met |"), (7.9, "| **not met** |")):
        changed = copy.deepcopy(result)
        changed["host"]["1"]["irnet:irnet"]["median_ms"] = ort / ratio
        assert _target_row(changed, name).endswith(f"| ≥ 8× | {ratio:.1f}× ({ort:.1f} / {ort / ratio:.1f} ms) {status}")


def test_reactnet_targets_follow_the_figures(result):
    outputs = "ReActNet-A outputs against onnxruntime"
    changed = copy.deepcopy(result)
    o = changed["reactnet_a"]["outputs"]
    o.update(real_mismatches=0, compared=o["samples"], top1_identical=o["samples"], median_relative_l2=1e-6)
    assert _target_row(changed, outputs).endswith("| met |")
    for wrong in ({"real_mismatches": 1}, {"top1_identical": o["samples"] - 1}, {"median_relative_l2": 2e-4}):
        worse = copy.deepcopy(changed)
        worse["reactnet_a"]["outputs"].update(wrong)
        assert _target_row(worse, outputs).endswith("| **not met** |"), wrong
    balance = "4 threads (aarch64): largest thread's layer work / mean"
    changed["balance"]["irnet"]["balance"] = 1.05
    changed["balance"]["reactnet_a"]["balance"] = 1.05
    assert _target_row(changed, balance).endswith("| met |")
    changed["balance"]["reactnet_a"]["balance"] = 1.06
    assert _target_row(changed, balance).endswith("| **not met** |")


def test_blocks_must_be_present_once_and_known(result):
    renderers = doc_figures.BLOCKS["README.md"]
    with pytest.raises(doc_figures.DocFiguresError, match="'summary' occurs 0 times"):
        doc_figures.replace_blocks("no block here\n", renderers, result)
    twice = "<!-- table5:summary -->\nx\n<!-- /table5:summary -->\n" * 2
    with pytest.raises(doc_figures.DocFiguresError, match="'summary' occurs 2 times"):
        doc_figures.replace_blocks(twice, renderers, result)
    other = "<!-- table5:summary -->\n<!-- /table5:summary -->\n<!-- table5:other -->\n<!-- /table5:other -->\n"
    with pytest.raises(doc_figures.DocFiguresError, match="no renderer"):
        doc_figures.replace_blocks(other, renderers, result)


def outside_generated_blocks(text):
    return doc_figures.BLOCK.sub("", text)


def headline_figures(result):
    """The run's totals as the pages print them: instructions per pass, A53 estimate, host ratio."""
    figures = set()
    for arch in ("aarch64", "armv7"):
        per_pass = result["qemu"][arch]["irnet"]["per_pass"] / 1e6
        figures |= {f"{per_pass:.2f} M", f"{per_pass:.1f} M"}
    figures.add(f"{result['a53']['irnet']:.1f} ms")
    host = result["host"]["1"]
    figures.add(f"{host['onnxruntime:fp32']['median_ms'] / host['irnet:irnet']['median_ms']:.1f}×")
    reactnet = result["reactnet_a"]
    for arch in ("aarch64", "armv7"):
        figures.add(f"{reactnet['qemu'][arch]['per_pass'] / 1e6:.2f} M")
    figures.add(f"{reactnet['a53']:.1f} ms")
    figures.add(f"{reactnet['host']['onnxruntime']['median_ms'] / reactnet['host']['irnet']['median_ms']:.1f}×")
    bireal = result["bireal_resnet18"]
    for arch in ("aarch64", "armv7"):
        figures.add(f"{bireal['qemu'][arch]['per_pass'] / 1e6:.2f} M")
    figures.add(f"{bireal['a53']:.1f} ms")
    return figures


HAND_WRITTEN_PAGES = ["README.md"] + [f"docs/{name}" for name in sorted(os.listdir(os.path.join(ROOT, "docs")))
                                       if name.endswith(".md") and name != "benchmarks.md"]


@pytest.mark.parametrize("page", HAND_WRITTEN_PAGES)
def test_headline_figures_are_written_only_by_the_generator(result, page):
    text = outside_generated_blocks(read(page))
    written = sorted(f for f in headline_figures(result) if re.search(re.escape(f) + r"(?![0-9])", text))
    assert written == [], f"{page} repeats {written} by hand: link to docs/benchmarks.md or use a generated block"


def test_a_partial_run_is_refused_by_name(result):
    for part in ("threads", "reactnet_a", "bireal_resnet18", "balance"):
        partial = copy.deepcopy(result)
        del partial[part]
        with pytest.raises(doc_figures.DocFiguresError, match=f"needs a full Table 5 run; the result has no '{part}'"):
            doc_figures.rendered_pages(partial)
    skipped = copy.deepcopy(result)
    skipped["reactnet_a"] = {"skipped": "building reactnet_a.irb failed: ConvertError: node x"}
    with pytest.raises(doc_figures.DocFiguresError, match="ReActNet-A was skipped in this run: building"):
        doc_figures.rendered_pages(skipped)
    skipped = copy.deepcopy(result)
    skipped["bireal_resnet18"] = {"skipped": "building bireal_resnet18.irb failed: ConvertError: node y"}
    with pytest.raises(doc_figures.DocFiguresError, match="Bi-Real ResNet-18 was skipped in this run: building"):
        doc_figures.rendered_pages(skipped)


def test_a_single_network_run_is_refused(result):
    """`--model reactnet_a` or `--model bireal_resnet18` with `--out-dir docs`: its result holds one
    network's rows and no ResNet-18 table, so table5 keeps docs/ and writes into the work dir."""
    for key in ("reactnet_a", "bireal_resnet18"):
        single = {name: copy.deepcopy(result[name]) for name in ("command", "date", "machine", "quick", key)}
        with pytest.raises(doc_figures.DocFiguresError, match="needs a full Table 5 run; the result has no"):
            doc_figures.rendered_pages(single)

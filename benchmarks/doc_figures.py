"""The documentation's Table 5 figures, rendered from docs/benchmarks.json.

    python -m benchmarks.doc_figures            # rewrite them from the committed JSON
    python -m benchmarks.doc_figures --check    # exit 1 if a committed page differs

The JSON written by `python -m benchmarks.table5` is the one source of every
figure that run measures. docs/benchmarks.md is rendered whole
(table5.render_markdown); README.md and docs/performance.md hold generated
blocks between `<!-- table5:NAME -->` and `<!-- /table5:NAME -->` lines, whose
contents are replaced and must not be edited by hand. table5 calls update()
after a run that writes into docs/, and tests/python/test_doc_figures.py checks
that the committed pages are what the committed JSON gives.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Callable

from .table5 import DABNN_AARCH64_INSTRUCTIONS, MODEL_TITLES, PAPER, ROOT, render_markdown

# Stem MACs of ResNet-18 at 224x224: 112 x 112 output pixels x 64 channels x a 7x7x3 kernel.
STEM_MACS = 112 * 112 * 64 * 7 * 7 * 3
# daBNN on the same model shape, aarch64 (BRIEF section 5): its 16 binary convs' MACs per
# instruction and its stem's instructions.
DABNN_BINARY_MACS_PER_INSTRUCTION = 25.0
DABNN_STEM_INSTRUCTIONS = 79.8e6
BLOCK = re.compile(r"(<!-- table5:([a-z0-9-]+) -->\n)(.*?)(<!-- /table5:\2 -->)", re.S)


class DocFiguresError(Exception):
    pass


def _parts(result: dict, arch: str) -> dict[str, int]:
    return result["qemu"][arch]["irnet"]["breakdown"]


def _per_pass(result: dict, arch: str, model: str = "irnet") -> int:
    return result["qemu"][arch][model]["per_pass"]


def _median(result: dict, contender: str) -> float:
    return result["host"]["1"][contender]["median_ms"]


def _bgemm(parts: dict[str, int]) -> int:
    return parts["binary: bgemm kernel"] + parts["binary: bgemm edge tiles"]


def _binary_layers(parts: dict[str, int]) -> int:
    return _bgemm(parts) + parts["binary: im2col"] + parts["binary: epilogue"] + parts["sign packing"]


def thread_speedup(result: dict) -> float:
    scaling = result["threads"]
    return scaling["1"]["median_ms"] / scaling["2"]["median_ms"]


def _run_line(result: dict, page: str) -> str:
    """Which run the figures come from; page: the link to docs/benchmarks.md from the page it is on."""
    return (f"Table 5 run at `{result['machine']['git_revision']}`, {result['date']} "
            f"([benchmarks.md]({page}), raw figures in `docs/benchmarks.json`).")


def readme_table5(result: dict) -> str:
    """README: the measured rows of Table 5 and the same run's headline ratios."""
    lines = [_run_line(result, "docs/benchmarks.md"), "",
             "| Method | W/A | Size paper (MB) | Size .irb (MB) | Paper time (ms) | Host (ms) | "
             "aarch64 instr./pass | A53 estimate (ms) |", "|---|---|---|---|---|---|---|---|"]
    for key, method, wa, paper_mb, paper_ms in PAPER:
        if key not in result["sizes"]:
            continue
        lines.append(f"| {method} | {wa} | {paper_mb:.2f} | {result['sizes'][key]['irb_mb']:.2f} | {paper_ms} | "
                     f"{_median(result, f'irnet:{key}'):.1f} | {_per_pass(result, 'aarch64', key) / 1e6:.1f} M | "
                     f"{result['a53'][key]:.1f} |")
    ort, irnet = _median(result, "onnxruntime:fp32"), _median(result, "irnet:irnet")
    shift = _shift_cost_instructions(result)
    ncnn = (f"ncnn float32 {_median(result, 'ncnn:fp32'):.1f} ms" if "ncnn:fp32" in result["host"]["1"]
            else f"ncnn float32 skipped ({result['skipped']['ncnn:fp32']})")
    lines += ["", f"Same run: onnxruntime float32 {ort:.1f} ms and {ncnn}, so onnxruntime / irnet IR-Net = "
                  f"{ort / irnet:.1f}× "
                  f"(the paper's FP / IR-Net ratio on the Pi: {PAPER[0][4] / PAPER[-1][4]:.1f}×); daBNN needs "
                  f"{DABNN_AARCH64_INSTRUCTIONS / 1e6:.1f} M aarch64 instructions per pass for the same model "
                  f"shape ({DABNN_AARCH64_INSTRUCTIONS / _per_pass(result, 'aarch64'):.2f}× more); armv7 "
                  f"(32-bit Raspberry Pi OS) takes {_per_pass(result, 'armv7') / 1e6:.1f} M; the bit-shift "
                  f"scales change the instructions per pass by {shift['aarch64']:+,} on aarch64 and "
                  f"{shift['armv7']:+,} on armv7; 2 threads give {thread_speedup(result):.2f}× (interleaved "
                  f"with 1 thread pass by pass), with bit-identical outputs."]
    return "\n".join(lines) + "\n"


def _parts_table(result: dict, counts: dict, a53_ms: float) -> list[str]:
    """Where a pass's instructions go, both ARM targets side by side; counts: arch -> arm_table counts."""
    a64, a32 = counts["aarch64"]["breakdown"], counts["armv7"]["breakdown"]
    t64, t32 = counts["aarch64"]["per_pass"], counts["armv7"]["per_pass"]
    lines = [_run_line(result, "benchmarks.md"), "",
             "| part | aarch64 | share | armv7 | share |", "|---|---|---|---|---|"]
    for part in sorted(a64, key=lambda p: -a64[p]):
        lines.append(f"| {part} | {a64[part] / 1e6:.2f} M | {100 * a64[part] / t64:.0f} % | "
                     f"{a32[part] / 1e6:.2f} M | {100 * a32[part] / t32:.0f} % |")
    lines.append(f"| **total per pass** | **{t64 / 1e6:.2f} M** | | **{t32 / 1e6:.2f} M** | |")
    lines += ["", f"A53 estimate of the aarch64 pass: **{a53_ms:.1f} ms** (the kernels at their "
                  "llvm-mca loop CPI, the rest at 1.85; the CPIs are in benchmarks.md)."]
    return lines


def performance_parts(result: dict) -> str:
    """performance.md: where a ResNet-18 pass's instructions go."""
    counts = {arch: result["qemu"][arch]["irnet"] for arch in ("aarch64", "armv7")}
    return "\n".join(_parts_table(result, counts, result["a53"]["irnet"])) + "\n"


def _network(result: dict, key: str) -> dict:
    """The rows of a network of models.NETWORKS; refused when the run skipped it."""
    net = result[key]
    if "skipped" in net and "sizes" not in net:
        raise DocFiguresError(f"{MODEL_TITLES[key]} was skipped in this run: {net['skipped']}")
    return net


def _reactnet(result: dict) -> dict:
    return _network(result, "reactnet_a")


def _rest(parts: dict[str, int], per_pass: int) -> int:
    """A pass's instructions outside the bgemm and the float convs: epilogues, sign
    packing, pools, adds, concat, layout and runtime."""
    return per_pass - _bgemm(parts) - parts["float: stem kernel"] - parts["float: sgemm kernel"] \
        - parts["float: im2col / packing"]


def _network_parts(result: dict, key: str, float_convs: str) -> list[str]:
    """Where a network's pass goes (_parts_table) and its binary MACs per instruction;
    float_convs: what its float convs are."""
    net = _network(result, key)
    lines = _parts_table(result, net["qemu"], net["a53"])
    binary = net["macs"]["binary"]
    a64 = net["qemu"]["aarch64"]
    lines += ["", f"{binary / 1e9:.2f} G binary MACs per pass: on aarch64 {binary / _bgemm(a64['breakdown']):.1f} "
                  f"per bgemm instruction (kernel + edge tiles), {binary / _binary_layers(a64['breakdown']):.1f} per "
                  f"instruction of the binary layers (bgemm + im2col + epilogue + sign packing); everything but the "
                  f"bgemm and the float convs ({float_convs}): {_rest(a64['breakdown'], a64['per_pass']) / 1e6:.2f} M."]
    return lines


def performance_reactnet_parts(result: dict) -> str:
    """performance.md: where a ReActNet-A pass's instructions go, and its binary MACs per instruction."""
    return "\n".join(_network_parts(result, "reactnet_a", "stem, fc")) + "\n"


def performance_bireal_parts(result: dict) -> str:
    """performance.md: where a Bi-Real ResNet-18 pass's instructions go, and per part what
    it costs beyond the same run's IR-Net ResNet-18 (the same binary convs and stem)."""
    lines = _network_parts(result, "bireal_resnet18", "stem, 1×1 downsample convs, fc")
    net = _network(result, "bireal_resnet18")
    for arch in ("aarch64", "armv7"):
        own, irnet = net["qemu"][arch], result["qemu"][arch]["irnet"]
        differences = sorted(((part, n - irnet["breakdown"][part]) for part, n in own["breakdown"].items()),
                             key=lambda kv: -abs(kv[1]))
        lines += ["", f"Against IR-Net ResNet-18 on {arch}: {(own['per_pass'] - irnet['per_pass']) / 1e6:+.2f} M "
                      "per pass; by part: " + ", ".join(f"{part} {n / 1e6:+.2f} M" for part, n in differences
                                                        if abs(n) >= 5e4) + "."]
    return "\n".join(lines) + "\n"


def performance_balance(result: dict) -> str:
    """performance.md: the 4-thread pass of each model, per guest thread."""
    balance = result["balance"]
    if "skipped" in balance:
        raise DocFiguresError(f"the 4-thread counts were skipped in this run: {balance['skipped']}")
    keys = list(balance)
    lines = [_run_line(result, "benchmarks.md"), "",
             "| | " + " | ".join(MODEL_TITLES.get(k, k) for k in keys) + " |", "|---|" + "---|" * len(keys)]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(balance[k]) for k in keys) + " |")

    row("layer work per thread", lambda b: ", ".join(f"{n / 1e6:.2f}" for n in b["layer_work"].values()) + " M")
    row("largest / mean (target ≤ 1.05)", lambda b: f"{b['balance']:.3f}")
    row("outside layer work (target ≤ 2 %)", lambda b: f"{b['outside_layer_work'] / 1e6:.2f} M = "
        f"{100 * b['outside_share']:.2f} % (" + ", ".join(f"{part.split(' (')[0]} {n / 1e6:.2f} M"
                                                       for part, n in b["outside_parts"].items()) + ")")
    row("outputs (checksums, top-5)", lambda b: "as at 1 thread" if b["outputs_match_1_thread"] else "**differ**")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    met: Callable[[dict], bool]
    figure: Callable[[dict], str]


def _shift_cost_instructions(result: dict) -> dict[str, int]:
    """Instructions per pass the bit-shift scales add (negative: save), per ARM target."""
    return {arch: _per_pass(result, arch) - _per_pass(result, arch, "irnet_noshift") for arch in ("aarch64", "armv7")}


def _shift_cost_share(result: dict) -> float:
    return max(n / _per_pass(result, arch, "irnet_noshift") for arch, n in _shift_cost_instructions(result).items())


def _reactnet_per_pass(result: dict, arch: str) -> int:
    return _reactnet(result)["qemu"][arch]["per_pass"]


def _reactnet_binary_per_instruction(result: dict) -> float:
    net = _reactnet(result)
    return net["macs"]["binary"] / _binary_layers(net["qemu"]["aarch64"]["breakdown"])


def _reactnet_rest_aarch64(result: dict) -> int:
    counts = _reactnet(result)["qemu"]["aarch64"]
    return _rest(counts["breakdown"], counts["per_pass"])


def _reactnet_host_ratio(result: dict) -> float:
    host = _reactnet(result)["host"]
    return host["onnxruntime"]["median_ms"] / host["irnet"]["median_ms"]


def _reactnet_outputs_met(o: dict) -> bool:
    return o["real_mismatches"] == 0 and o["top1_identical"] == o["compared"] > 0 \
        and o["median_relative_l2"] <= 1e-4


def _reactnet_outputs(o: dict) -> str:
    return (f"top-1 {o['top1_identical']}/{o['compared']}, median {o['median_relative_l2']:.1e} over the "
            f"{o['compared']} of {o['samples']} random inputs that do not differ at a sign tie "
            f"(ties in {o['sign_ties']}, differing there {o['differ_at_tie']})")


# The performance targets of the project brief that the Table 5 run measures.
TARGETS = [
    Target("host: onnxruntime fp32 / irnet IR-Net 1/1", "≥ 8×",
           lambda r: _median(r, "onnxruntime:fp32") / _median(r, "irnet:irnet") >= 8,
           lambda r: f"{_median(r, 'onnxruntime:fp32') / _median(r, 'irnet:irnet'):.1f}× "
                     f"({_median(r, 'onnxruntime:fp32'):.1f} / {_median(r, 'irnet:irnet'):.1f} ms)"),
    Target("host: irnet fp32 vs onnxruntime fp32", "within 1.5×",
           lambda r: _median(r, "irnet:fp32") / _median(r, "onnxruntime:fp32") <= 1.5,
           lambda r: f"{_median(r, 'irnet:fp32') / _median(r, 'onnxruntime:fp32'):.2f}× the time"),
    Target("A53 1.2 GHz estimate, IR-Net ResNet-18", "≤ 90 ms",
           lambda r: r["a53"]["irnet"] <= 90,
           lambda r: f"{r['a53']['irnet']:.1f} ms (estimate; the paper measured {PAPER[-1][4]} ms)"),
    Target("aarch64 instructions per pass", "≤ 85 M",
           lambda r: _per_pass(r, "aarch64") <= 85e6,
           lambda r: f"{_per_pass(r, 'aarch64') / 1e6:.2f} M (daBNN {DABNN_AARCH64_INSTRUCTIONS / 1e6:.1f} M)"),
    Target("binary convs: binary MACs per aarch64 instruction", "≥ 30",
           lambda r: r["macs"]["irnet"]["binary"] / _binary_layers(_parts(r, "aarch64")) >= 30,
           lambda r: f"{r['macs']['irnet']['binary'] / _binary_layers(_parts(r, 'aarch64')):.1f} over the binary "
                     f"layers, {r['macs']['irnet']['binary'] / _bgemm(_parts(r, 'aarch64')):.1f} in the bgemm "
                     f"(daBNN {DABNN_BINARY_MACS_PER_INSTRUCTION:.1f} over its binary layers)"),
    Target("float stem: MACs per aarch64 instruction", "≥ 3",
           lambda r: STEM_MACS / _parts(r, "aarch64")["float: stem kernel"] >= 3,
           lambda r: f"{STEM_MACS / _parts(r, 'aarch64')['float: stem kernel']:.2f} "
                     f"(daBNN {STEM_MACS / DABNN_STEM_INSTRUCTIONS:.2f})"),
    Target("cost of bit-shift scales over none", "≤ 2 %",
           lambda r: _shift_cost_share(r) <= 0.02,
           lambda r: "{aarch64:+,} / {armv7:+,} instructions per pass on aarch64 / armv7".format(
               **_shift_cost_instructions(r)) +
           f" (host time ratio {_median(r, 'irnet:irnet') / _median(r, 'irnet:irnet_noshift'):.3f})"),
    Target("2 threads vs 1 (host, interleaved pass by pass)", "≥ 1.7×",
           lambda r: thread_speedup(r) >= 1.7,
           lambda r: f"{thread_speedup(r):.2f}× (medians of {r['threads']['1']['runs']} passes each)"),
    Target("load + first inference of the ResNet-18 `.irb`", "≤ 50 ms",
           lambda r: r["load_and_first_run_ms"] <= 50,
           lambda r: f"{r['load_and_first_run_ms']:.1f} ms (Python API)"),
    Target("ReActNet-A: aarch64 instructions per pass", "≤ 160 M",
           lambda r: _reactnet_per_pass(r, "aarch64") <= 160e6,
           lambda r: f"{_reactnet_per_pass(r, 'aarch64') / 1e6:.2f} M"),
    Target("ReActNet-A: binary MACs per aarch64 instruction of the binary layers (1×1 included)", "≥ 32",
           lambda r: _reactnet_binary_per_instruction(r) >= 32,
           lambda r: f"{_reactnet_binary_per_instruction(r):.1f}"),
    Target("ReActNet-A: aarch64 instructions outside the bgemm and the float convs", "≤ 10 M",
           lambda r: _reactnet_rest_aarch64(r) <= 10e6,
           lambda r: f"{_reactnet_rest_aarch64(r) / 1e6:.2f} M"),
    Target("ReActNet-A: armv7 / aarch64 instructions per pass", "≤ 1.6×",
           lambda r: _reactnet_per_pass(r, "armv7") / _reactnet_per_pass(r, "aarch64") <= 1.6,
           lambda r: f"{_reactnet_per_pass(r, 'armv7') / _reactnet_per_pass(r, 'aarch64'):.2f}× "
                     f"({_reactnet_per_pass(r, 'armv7') / 1e6:.2f} M)"),
    Target("host: onnxruntime fp32 / irnet ReActNet-A, same run", "≥ 5×",
           lambda r: _reactnet_host_ratio(r) >= 5,
           lambda r: f"{_reactnet_host_ratio(r):.1f}× ({_reactnet(r)['host']['onnxruntime']['median_ms']:.1f} / "
                     f"{_reactnet(r)['host']['irnet']['median_ms']:.1f} ms)"),
    Target("ReActNet-A outputs against onnxruntime", "top-1 identical, median relative L2 ≤ 1e-4",
           lambda r: _reactnet_outputs_met(r["reactnet_a"]["outputs"]),
           lambda r: _reactnet_outputs(r["reactnet_a"]["outputs"])),
    Target("4 threads (aarch64): largest thread's layer work / mean", "≤ 1.05",
           lambda r: all(b["balance"] <= 1.05 for b in r["balance"].values()),
           lambda r: ", ".join(f"{MODEL_TITLES.get(k, k)} {b['balance']:.3f}" for k, b in r["balance"].items())),
    Target("4 threads (aarch64): instructions outside layer work", "≤ 2 % of the pass",
           lambda r: all(b["outside_share"] <= 0.02 for b in r["balance"].values()),
           lambda r: ", ".join(f"{MODEL_TITLES.get(k, k)} {100 * b['outside_share']:.2f} %"
                               for k, b in r["balance"].items())),
]


def performance_targets(result: dict) -> str:
    """performance.md: the targets the Table 5 run measures, with their status."""
    lines = ["| target | goal | measured | status |", "|---|---|---|---|"]
    for t in TARGETS:
        lines.append(f"| {t.name} | {t.goal} | {t.figure(result)} | {'met' if t.met(result) else '**not met**'} |")
    return "\n".join(lines) + "\n"


BLOCKS = {
    "README.md": {"summary": readme_table5},
    "docs/performance.md": {"parts": performance_parts, "reactnet-parts": performance_reactnet_parts,
                            "bireal-parts": performance_bireal_parts, "targets": performance_targets,
                            "balance": performance_balance},
}


def replace_blocks(text: str, renderers: dict[str, Callable[[dict], str]], result: dict) -> str:
    """text with each generated block's contents rendered anew; every renderer's block must be there once."""
    found = [m.group(2) for m in BLOCK.finditer(text)]
    for name in renderers:
        if found.count(name) != 1:
            raise DocFiguresError(f"block '{name}' occurs {found.count(name)} times (expected once)")
    unknown = sorted(set(found) - set(renderers))
    if unknown:
        raise DocFiguresError(f"no renderer for block(s) {unknown}")
    return BLOCK.sub(lambda m: m.group(1) + renderers[m.group(2)](result) + m.group(4), text)


def rendered_pages(result: dict, root: str = ROOT) -> dict[str, str]:
    """Every page that carries Table 5 figures, as the JSON result gives it (relative path -> text)."""
    pages = {"docs/benchmarks.md": render_markdown(result)}
    for path, renderers in BLOCKS.items():
        with open(os.path.join(root, path), encoding="utf-8") as f:
            try:
                pages[path] = replace_blocks(f.read(), renderers, result)
            except KeyError as e:  # a partial run: --quick, --no-qemu, one thread count, a missing peer
                raise DocFiguresError(f"{path} needs a full Table 5 run; the result has no {e}") from None
    return pages


def stale_pages(result: dict, root: str = ROOT) -> list[str]:
    """The pages whose committed text differs from what `result` renders."""
    stale = []
    for path, text in rendered_pages(result, root).items():
        with open(os.path.join(root, path), encoding="utf-8") as f:
            if f.read() != text:
                stale.append(path)
    return stale


def update(result: dict, root: str = ROOT) -> None:
    for path, text in rendered_pages(result, root).items():
        with open(os.path.join(root, path), "w", encoding="utf-8") as f:
            f.write(text)


def load_result(root: str = ROOT) -> dict:
    with open(os.path.join(root, "docs", "benchmarks.json"), encoding="utf-8") as f:
        return json.load(f)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.doc_figures", description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if a page differs")
    args = ap.parse_args(argv)
    result = load_result()
    if args.check:
        stale = stale_pages(result)
        for path in stale:
            print(f"{path}: differs from docs/benchmarks.json (run python -m benchmarks.doc_figures)",
                  file=sys.stderr)
        return 1 if stale else 0
    update(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

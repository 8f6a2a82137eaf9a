"""Reproduce the IR-Net paper's Table 5: ResNet-18 size and single-thread latency.

    python -m benchmarks.table5 --model all --threads 1,2   # the run docs/ show (below)
    python -m benchmarks.table5            # ResNet-18 only: host, qemu counts, A53 estimate
    python -m benchmarks.table5 --quick    # < 1 minute: fewer runs, host only
    python -m benchmarks.table5 --threads 1,2,4
    python -m benchmarks.table5 --model reactnet_a   # ReActNet-A's rows (output in the work dir)
    python -m benchmarks.table5 --model bireal_resnet18   # Bi-Real ResNet-18's rows (the same)
    python -m benchmarks.table5 --irb model.irb --threads 1,4   # one converted model, no torch/onnx

What is measured, and how honestly it can be here (no Raspberry Pi is attached
to the development machine):
  * size: the .irb files next to the paper's accounting (FP params x 32 bit +
    binary weights x 1 bit);
  * host latency: this engine, onnxruntime and ncnn on the same machine in one
    interleaved run (medians of >= 20 runs, min and max);
  * aarch64 / armv7: exact guest instructions per forward pass under qemu with
    the project's counting plugin (tools/qemu), per function, next to daBNN's
    count for the same model shape (BRIEF: 170.0 M);
  * Cortex-A53 @ 1.2 GHz: an ESTIMATE from those counts (see a53_estimate);
  * the Pi's four cores: one pass at 4 threads counted per guest thread under
    qemu-aarch64, its balance and the instructions outside layer work
    (arm_table.thread_balance);
  * ReActNet-A and Bi-Real ResNet-18 (network_rows): .irb size against float32,
    host latency against onnxruntime on the same ONNX, outputs against
    onnxruntime, the ARM counts;
  * on a real Pi the same command runs natively and fills the host columns.
  * on a Raspberry Pi, `--irb` times a model converted elsewhere (e.g. the
    build/bench/resnet18_irnet.irb this command writes on a PC) with the
    runtime only: numpy and irnet-infer, no torch, onnx or onnxruntime.
A complete run (all models, qemu counts, 1 and 2 threads: `--model all --threads
1,2`) writes docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png, and
the figures README.md and docs/performance.md take from them (doc_figures); any
other run (--quick, --irb, one model, a skipped part) writes into the work
directory and leaves docs/ as they are. Prints the paths it wrote.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from . import models as model_zoo
from . import peers
from .timing import measure_interleaved

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The paper's Table 5 (Raspberry Pi 3B, Cortex-A53 1.2 GHz, single thread, daBNN).
PAPER = [
    # key, method, W/A, size MB, time ms
    ("fp32", "FP", "32/32", 46.77, 1418.94),
    ("ncnn_int8", "NCNN", "8/8", None, 935.51),
    ("dsq", "DSQ", "2/2", None, 551.22),
    ("irnet_noshift", "IR-Net without bit-shift scales", "1/1", 4.20, 252.16),
    ("irnet", "IR-Net", "1/1", 4.21, 261.98),
]
# The models' keys in results: the paper's ResNet-18 and the networks of network_rows.
MODEL_TITLES = {"irnet": "IR-Net ResNet-18 1/1", **{k: title for k, (title, *_) in model_zoo.NETWORKS.items()}}
DABNN_AARCH64_INSTRUCTIONS = 170.0e6  # BRIEF section 5, measured under qemu-aarch64
A53_HZ = 1.2e9
# The networks whose 4-thread pass is counted per guest thread beside ResNet-18's
# (Bi-Real ResNet-18's binary convs have the IR-Net model's shapes: it would repeat ResNet-18's).
BALANCE_NETWORKS = ("reactnet_a",)


def paper_size_mb(fp_params: int, binary_params: int, shift_bytes: int = 0) -> float:
    """The paper's accounting: 32 bits per float parameter, 1 bit per binary weight."""
    return (fp_params * 4 + binary_params / 8 + shift_bytes) / 1e6


def machine_info() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(),
            "python": sys.version.split()[0], "cpu": platform.processor()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import irnet_infer
        info["irnet_infer"] = irnet_infer.__version__
        info["cpu_features"] = irnet_infer.cpu_description()
        info["kernels"] = {f: irnet_infer.selected_kernel(f) for f in irnet_infer.kernels()}
    except Exception as e:  # report, do not fail: the table is still useful
        info["irnet_infer"] = f"unavailable: {e}"
    for mod in ("onnxruntime", "ncnn", "torch", "numpy"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            info[mod] = None
    try:
        info["git_revision"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                              capture_output=True, text=True).stdout.strip()
    except OSError:
        info["git_revision"] = None
    return info


def host_latency(files, threads: int, runs: int, warmup: int, work_dir: str, all_peers: bool):
    """One interleaved timing run of every contender at `threads` threads
    (onnxruntime always; ncnn, whose conversion takes a while, with all_peers)."""
    x = np.random.default_rng(0).standard_normal(model_zoo.INPUT_SHAPE).astype(np.float32)
    contenders, skipped = {}, {}
    for key in ("fp32", "irnet_noshift", "irnet"):
        contenders[f"irnet:{key}"] = peers.irnet(files[key].irb, x, threads)
    makers = {"onnxruntime:fp32": lambda: peers.onnxruntime(files["fp32"].onnx, x, threads)}
    if all_peers:
        makers["ncnn:fp32"] = lambda: peers.ncnn_fp32(model_zoo.torch_fp_model(), x, threads, work_dir)
        skipped["ncnn:int8"] = peers.NCNN_INT8_REASON
    for name, make in makers.items():
        try:
            contenders[name] = make()
        except peers.PeerUnavailable as e:
            skipped[name] = str(e)
    results = measure_interleaved(contenders, runs=runs, warmup=warmup)
    return {name: lat.as_dict() for name, lat in results.items()}, skipped


def thread_scaling(irb_path: str, threads: list[int], runs: int, warmup: int) -> dict:
    """The IR-Net model at every thread count, timed round-robin in one run: the
    speed-ups are ratios of runs that shared the machine's noise (timing each
    thread count in its own phase let another tenant's load land on one side)."""
    x = np.random.default_rng(0).standard_normal(model_zoo.INPUT_SHAPE).astype(np.float32)
    contenders = {str(t): peers.irnet(irb_path, x, t) for t in threads}
    return {t: lat.as_dict() for t, lat in measure_interleaved(contenders, runs=runs, warmup=warmup).items()}


def load_and_first_run_ms(irb_path: str) -> float:
    import irnet_infer
    x = np.zeros(model_zoo.INPUT_SHAPE, np.float32)
    start = time.perf_counter()
    irnet_infer.Model(irb_path, threads=1).run(x)
    return (time.perf_counter() - start) * 1e3


def model_macs(files) -> dict:
    """Binary and float MACs per forward pass of each model, from the engine's summary."""
    import irnet_infer
    out = {}
    for key, f in files.items():
        summary = irnet_infer.Model(f.irb).summary_dict()
        out[key] = {"binary": summary["binary_macs"], "float": summary["float_macs"],
                    "peak_activation_bytes": summary["peak_activation_bytes"]}
    return out


def network_rows(f: model_zoo.ModelFiles, runs: int, warmup: int, qemu_arches=("arm64", "arm32"),
                 samples: int = 8) -> dict:
    """One binary network's rows: .irb size against its float32 parameters, host
    latency of irnet against onnxruntime float32 on the same ONNX (1 thread,
    interleaved), outputs against onnxruntime on `samples` random inputs, and
    per ARM arch the exact instructions per pass with the per-part table (and the
    A53 estimate on aarch64). Raises nothing for a missing peer or qemu: those
    parts are reported as skipped."""
    import irnet_infer

    model = irnet_infer.Model(f.irb, threads=1)
    shape = tuple(model.inputs[0]["shape"])
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(samples)]
    out = {"key": f.key, "input_shape": list(shape), "macs": model_macs({f.key: f})[f.key],
           "sizes": {"irb_bytes": os.path.getsize(f.irb), "onnx_bytes": os.path.getsize(f.onnx),
                     "float32_bytes": 4 * (f.fp_params + f.binary_params),
                     "fp_params": f.fp_params, "binary_params": f.binary_params},
           "skipped": {}}
    contenders = {"irnet": peers.irnet(f.irb, xs[0], 1)}
    try:
        contenders["onnxruntime"] = peers.onnxruntime(f.onnx, xs[0], 1)
    except peers.PeerUnavailable as e:
        out["skipped"]["onnxruntime"] = str(e)
    out["host"] = {name: lat.as_dict() for name, lat in measure_interleaved(contenders, runs, warmup).items()}
    if "onnxruntime" in contenders:
        out["outputs"] = compare_outputs(model, f.onnx, xs)
    if qemu_arches:
        from . import arm_table
        out["qemu"], out["a53"], out["a53_method"] = arm_table.measure({f.key: f}, qemu_arches)
        out["qemu"] = {arch: per_model if "skipped" in per_model else per_model[f.key]
                       for arch, per_model in out["qemu"].items()}
        out["a53"] = out["a53"].get(f.key)
    return out


def compare_outputs(model, onnx_path: str, xs) -> dict:
    """irnet against onnxruntime float32 on the same inputs, input by input
    (tools/sign_ties.py): top-1 agreement and relative L2 errors over the inputs that do
    not differ at a sign tie (a binary activation's input within float rounding of 0,
    where the two may take different signs), and how many inputs have a tie and how
    many of those differ."""
    import onnxruntime as ort
    from tools.sign_ties import compare, sign_ties

    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    want = np.concatenate([session.run(None, {name: x})[0] for x in xs])
    got = np.concatenate([np.asarray(model.run(x)) for x in xs])
    return compare(got, want, sign_ties(onnx_path, np.concatenate(xs))).summary()


def _mega(n) -> str:
    return f"{n / 1e6:.2f} M"


def render_network(net: dict, title: str) -> list[str]:
    """The markdown rows of network_rows' result."""
    lines = ["", f"## {title}", ""]
    if "skipped" in net and "sizes" not in net:
        return lines + [f"skipped: {net['skipped']}"]
    s, host, macs = net["sizes"], net["host"], net["macs"]
    lines += [f"Input {'×'.join(map(str, net['input_shape']))}; {macs['binary'] / 1e9:.2f} G binary MACs, "
              f"{macs['float'] / 1e6:.1f} M float MACs per pass.", "",
              "| | value |", "|---|---|",
              f"| .irb size | {s['irb_bytes'] / 1e6:.2f} MB |",
              f"| float32 size ({s['fp_params'] + s['binary_params']:,} parameters × 4 bytes) | "
              f"{s['float32_bytes'] / 1e6:.2f} MB ({s['float32_bytes'] / s['irb_bytes']:.1f}× the .irb) |",
              f"| host irnet, 1 thread (median of {host['irnet']['runs']}) | {host['irnet']['median_ms']:.2f} ms |"]
    if "onnxruntime" in host:
        ort = host["onnxruntime"]["median_ms"]
        lines.append(f"| host onnxruntime float32, same ONNX, same run | {ort:.2f} ms "
                     f"({ort / host['irnet']['median_ms']:.1f}× irnet) |")
    for peer, reason in net["skipped"].items():
        lines.append(f"| {peer} | skipped: {reason} |")
    if "outputs" in net:
        o = net["outputs"]
        lines.append(f"| outputs against onnxruntime ({o['samples']} random inputs) | top-1 identical "
                     f"{o['top1_identical']}/{o['compared']}, relative L2 median {o['median_relative_l2']:.2e}, "
                     f"max {o['max_relative_l2']:.2e}; sign ties (a binary activation's input within rounding "
                     f"of 0) in {o['sign_ties']} inputs; differing there, left out: {o['differ_at_tie']}"
                     + (f"; **{o['real_mismatches']} inputs differ without a tie**" if o["real_mismatches"] else "")
                     + " |")
    for arch, counts in net.get("qemu", {}).items():
        if "skipped" in counts:
            lines.append(f"| {arch} instructions per pass | skipped: {counts['skipped']} |")
            continue
        b = counts["breakdown"]
        bgemm = b["binary: bgemm kernel"] + b["binary: bgemm edge tiles"]
        lines.append(f"| {arch} instructions per pass | {_mega(counts['per_pass'])} "
                     f"({macs['binary'] / bgemm:.1f} binary MACs per bgemm instruction) |")
    if net.get("a53") is not None:
        lines.append(f"| Cortex-A53 @ 1.2 GHz ESTIMATE (aarch64 counts, see the method below) | "
                     f"{net['a53']:.1f} ms |")
    arches = [a for a, c in net.get("qemu", {}).items() if "skipped" not in c]
    if arches:
        first = net["qemu"][arches[0]]["breakdown"]
        lines += ["", "| part | " + " | ".join(arches) + " |", "|---|" + "---|" * len(arches)]
        for row in first:
            lines.append(f"| {row} | " + " | ".join(_mega(net["qemu"][a]["breakdown"][row]) for a in arches) + " |")
        lines.append("| **total per pass** | " + " | ".join(f"**{_mega(net['qemu'][a]['per_pass'])}**"
                                                          for a in arches) + " |")
    return lines


def render_networks(result: dict) -> list[str]:
    """The rows of every network of models.NETWORKS the run measured, in that order."""
    lines = []
    for key in model_zoo.NETWORKS:
        if result.get(key):
            lines += render_network(result[key], f"{MODEL_TITLES[key]} (224×224, 1 thread)")
    return lines


def render_balance(balance: dict) -> list[str]:
    """The per-thread rows of arm_table.thread_balance, one column per model."""
    if "skipped" in balance:
        return ["", "## Threads, aarch64 under QEMU (per guest thread)", "", f"skipped: {balance['skipped']}"]
    keys = list(balance)
    first = balance[keys[0]]
    lines = ["", f"## {first['threads']} threads, aarch64 under QEMU (exact instructions per guest thread)", "",
             "One pass at 4 threads, counted per guest thread, against the same pass at 1 thread. Layer work: a "
             "thread's instructions in the engine's functions other than the thread pool's. Outside layer work: "
             "everything the threads run beyond the 1-thread pass (the pool's waking, spinning and blocking, "
             "libc's futex/yield/clock calls, and the layer functions' extra instructions from running in more "
             "pieces). Spinning runs for wall-clock time, so its counts depend on how qemu and the host "
             "scheduled the threads; everything else is exact.", "",
             "| | " + " | ".join(MODEL_TITLES.get(k, k) for k in keys) + " |", "|---|" + "---|" * len(keys)]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(balance[k]) for k in keys) + " |")

    row("layer work per thread", lambda b: ", ".join(_mega(n) for n in b["layer_work"].values()))
    row("largest thread's layer work / mean (target ≤ 1.05)", lambda b: f"**{b['balance']:.3f}**")
    row("instructions per thread (all)", lambda b: ", ".join(_mega(n) for n in b["per_thread"].values()))
    row("1-thread pass", lambda b: _mega(b["single_thread_pass"]))
    row("outside layer work (target ≤ 2 % of the pass)",
        lambda b: f"**{_mega(b['outside_layer_work'])} = {100 * b['outside_share']:.2f} %**")
    for part in first["outside_parts"]:
        row(f"… {part}", lambda b, p=part: _mega(b["outside_parts"][p]))
    row("outputs (checksums, top-5) as at 1 thread", lambda b: "identical" if b["outputs_match_1_thread"]
        else "**differ**")
    for k in keys:
        lines += ["", f"Largest functions of {MODEL_TITLES.get(k, k)}, instructions per thread: " + "; ".join(
            f"`{name[:50]}` {', '.join(f'{n / 1e6:.2f}' for n in per)} M" for name, per in
            balance[k]["largest_functions"])]
    return lines


def render_markdown(result: dict) -> str:
    if "sizes" not in result:  # --model reactnet_a or bireal_resnet18
        lines = ["# Benchmarks", "", f"Command: `{result['command']}`  ",
                 f"Revision: `{result['machine'].get('git_revision')}`, {result['date']}  ",
                 f"Host: {result['machine'].get('cpu')} ({result['machine'].get('machine')})"]
        lines += render_networks(result)
        if result.get("balance"):
            lines += render_balance(result["balance"])
        return "\n".join(lines) + "\n"
    host = result["host"].get("1", {})
    ms = lambda k: host.get(k, {}).get("median_ms")  # noqa: E731
    lines = [
        "# Benchmarks: the paper's Table 5, reproduced",
        "",
        f"Command: `{result['command']}`  ",
        f"Revision: `{result['machine'].get('git_revision')}`, {result['date']}  ",
        f"Host: {result['machine'].get('cpu')} ({result['machine'].get('machine')}); "
        f"kernels: {result['machine'].get('kernels')}",
        "",
        "ResNet-18 at 224×224, batch 1, single thread. Paper columns: Raspberry Pi 3B "
        "(Cortex-A53 1.2 GHz) with daBNN. Host columns: measured on this machine "
        "(median of the runs, interleaved)."
        + (" A53 column: an **estimate** (see below)." if result.get("a53_method") else
           " aarch64 and A53 columns: not measured in this run (no qemu counts)."),
        "",
        "| Method | W/A | Size paper (MB) | Size .irb (MB) | Paper time (ms) | Host irnet (ms) |"
        " aarch64 instr./pass | A53 estimate (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sizes, counts, est = result["sizes"], result.get("qemu", {}).get("aarch64", {}), result.get("a53", {})
    for key, method, wa, paper_mb, paper_ms in PAPER:
        size = sizes.get(key, {}).get("irb_mb")
        host_ms = ms(f"irnet:{key}")
        count = counts.get(key, {}).get("per_pass")
        lines.append(
            f"| {method} | {wa} | {f'{paper_mb:.2f}' if paper_mb is not None else '—'} | "
            f"{f'{size:.2f}' if size else '—'} | {paper_ms} | "
            f"{f'{host_ms:.2f}' if host_ms else '—'} | "
            f"{f'{count / 1e6:.1f} M' if count else '—'} | "
            f"{f'{est[key]:.1f}' if key in est else '—'} |")
    lines += ["", "## Host peers (same run)", "", "| contender | median ms | min | max |", "|---|---|---|---|"]
    for name, lat in sorted(host.items()):
        lines.append(f"| {name} | {lat['median_ms']:.2f} | {lat['min_ms']:.2f} | {lat['max_ms']:.2f} |")
    for name, reason in sorted(result.get("skipped", {}).items()):
        lines.append(f"| {name} | skipped: {reason} | | |")
    if ms("onnxruntime:fp32") and ms("irnet:irnet") and result.get("quick"):
        lines += ["", f"Indicative only ({host['irnet:irnet']['runs']} runs, --quick; a few-percent "
                      f"difference is noise here): onnxruntime float32 / irnet IR-Net 1/1 = "
                      f"{ms('onnxruntime:fp32') / ms('irnet:irnet'):.1f}×; bit-shift cost: irnet / irnet "
                      f"without shift = {ms('irnet:irnet') / ms('irnet:irnet_noshift'):.2f}."]
    elif ms("onnxruntime:fp32") and ms("irnet:irnet"):
        lines += ["", f"onnxruntime float32 / irnet IR-Net 1/1 = **{ms('onnxruntime:fp32') / ms('irnet:irnet'):.1f}×** "
                      f"(paper, FP / IR-Net on the Pi: {1418.94 / 261.98:.1f}×); "
                      f"irnet float32 / onnxruntime float32 = {ms('irnet:fp32') / ms('onnxruntime:fp32'):.2f}; "
                      f"bit-shift cost: irnet / irnet without shift = "
                      f"{ms('irnet:irnet') / ms('irnet:irnet_noshift'):.3f}."]
    if result.get("threads"):
        scaling = result["threads"]
        runs = next(iter(scaling.values()))["runs"]
        lines += ["", "## Threads (host)", "",
                  f"The IR-Net model at each thread count, interleaved in one run ({runs} runs each).", "",
                  "| threads | irnet IR-Net ms (median) | min | speed-up (medians) |", "|---|---|---|---|"]
        base = scaling[min(scaling, key=int)]["median_ms"]
        for t, res in sorted(scaling.items(), key=lambda kv: int(kv[0])):
            lines.append(f"| {t} | {res['median_ms']:.2f} | {res['min_ms']:.2f} | {base / res['median_ms']:.2f}× |")
    lines += ["", "## Sizes", "", "| model | .irb bytes | paper accounting (MB) | FP params | binary weights |",
              "|---|---|---|---|---|"]
    for key, s in sizes.items():
        lines.append(f"| {key} | {s['irb_bytes']:,} | {s['paper_accounting_mb']:.2f} | {s['fp_params']:,} | "
                     f"{s['binary_params']:,} |")
    for arch, per_model in result.get("qemu", {}).items():
        lines += ["", f"## {arch} under QEMU (exact guest instructions per forward pass)", ""]
        if "skipped" in per_model:
            lines.append(f"skipped: {per_model['skipped']}")
            continue
        keys = list(per_model)
        lines += ["| | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        lines.append("| **total per pass** | " + " | ".join(f"**{per_model[k]['per_pass'] / 1e6:.2f} M**"
                                                          for k in keys) + " |")
        for row in per_model[keys[0]]["breakdown"]:
            lines.append(f"| {row} | " + " | ".join(f"{per_model[k]['breakdown'][row] / 1e6:.2f} M"
                                                   for k in keys) + " |")
        lines.append("| emulated wall ms per pass (qemu, not hardware time) | " +
                     " | ".join(f"{per_model[k]['emulated_ms']:.0f}" for k in keys) + " |")
        macs = result.get("macs", {}).get("irnet")
        irnet = per_model.get("irnet")
        if macs and irnet:
            b = irnet["breakdown"]
            bgemm = b["binary: bgemm kernel"] + b["binary: bgemm edge tiles"]
            binary_layers = bgemm + b["binary: im2col"] + b["binary: epilogue"] + b["sign packing"]
            float_convs = b["float: stem kernel"] + b["float: sgemm kernel"] + b["float: im2col / packing"]
            lines += ["", f"IR-Net ResNet-18 on {arch}: {macs['binary'] / bgemm:.1f} binary "
                      f"MACs per bgemm instruction (kernel + edge tiles), {macs['binary'] / binary_layers:.1f} per "
                      f"instruction of the binary layers (bgemm + im2col + epilogue + sign packing); "
                      f"{macs['float'] / float_convs:.2f} float MACs per instruction of the float convs "
                      f"(stem kernel + sgemm + im2col/packing)."]
        if arch == "aarch64" and irnet:
            lines.append(f"daBNN, same model shape (BRIEF): {DABNN_AARCH64_INSTRUCTIONS / 1e6:.1f} M per pass "
                         f"(this engine: {DABNN_AARCH64_INSTRUCTIONS / irnet['per_pass']:.2f}× fewer).")
        lines += ["", "Largest functions (IR-Net): " + "; ".join(
            f"`{name[:60]}` {count / 1e6:.1f} M" for name, count in (irnet or per_model[keys[0]])["top_symbols"][:6])]
    lines += ["", f"Load + first inference of the IR-Net .irb (host, Python API): "
                  f"{result['load_and_first_run_ms']:.1f} ms."]
    if result.get("balance"):
        lines += render_balance(result["balance"])
    lines += render_networks(result)
    if result.get("a53_method"):
        lines += ["", "## Cortex-A53 estimate (not a measurement)", "", result["a53_method"]]
    return "\n".join(lines) + "\n"


def measure_irb(irb_path: str, threads: list[int], runs: int, warmup: int) -> dict:
    """The Raspberry Pi mode: one converted model timed with the runtime only (numpy and
    irnet-infer), at every thread count, interleaved; random inputs of the model's shapes."""
    import irnet_infer
    start = time.perf_counter()
    model = irnet_infer.Model(irb_path, threads=1)
    rng = np.random.default_rng(0)
    x = [rng.standard_normal(inp["shape"]).astype(np.float32) for inp in model.inputs]
    model.run(*x)
    load_ms = (time.perf_counter() - start) * 1e3
    summary = model.summary_dict()
    contenders = {}
    for t in threads:
        at_t = irnet_infer.Model(irb_path, threads=t)
        contenders[str(t)] = lambda m=at_t: m.run(*x)
    latency = measure_interleaved(contenders, runs=runs, warmup=warmup)
    return {"model": os.path.abspath(irb_path), "irb_bytes": os.path.getsize(irb_path),
            "inputs": [{"name": i["name"], "shape": list(i["shape"])} for i in model.inputs],
            "macs": {"binary": summary["binary_macs"], "float": summary["float_macs"]},
            "peak_activation_bytes": summary["peak_activation_bytes"],
            "load_and_first_run_ms": load_ms,
            "threads": {t: lat.as_dict() for t, lat in latency.items()}}


def render_irb_markdown(result: dict) -> str:
    m, machine = result["irb"], result["machine"]
    lines = [
        f"# irnet-infer latency of {os.path.basename(m['model'])}",
        "",
        f"Command: `{result['command']}`  ",
        f"Date: {result['date']}; irnet-infer {machine.get('irnet_infer')}, numpy {machine.get('numpy')}  ",
        f"Host: {machine.get('cpu')} ({machine.get('machine')}, {machine.get('platform')}); "
        f"kernels: {machine.get('kernels')}",
        "",
        f"Model: `{m['model']}`, {m['irb_bytes']:,} bytes, inputs "
        + ", ".join(f"{i['name']} {tuple(i['shape'])}" for i in m["inputs"])
        + f"; {m['macs']['binary']:,} binary and {m['macs']['float']:,} float MACs per pass; "
        f"peak activations {m['peak_activation_bytes']:,} bytes.",
        "",
        "Random inputs, batch as stored in the model; thread counts timed round-robin in one run.",
        "",
        "| threads | median ms | min | max | runs |",
        "|---|---|---|---|---|",
    ]
    for t, lat in sorted(m["threads"].items(), key=lambda kv: int(kv[0])):
        lines.append(f"| {t} | {lat['median_ms']:.2f} | {lat['min_ms']:.2f} | {lat['max_ms']:.2f} | {lat['runs']} |")
    if result.get("quick"):
        lines += ["", f"Indicative only (--quick: {next(iter(m['threads'].values()))['runs']} runs)."]
    lines += ["", f"Load + first inference (Python API): {m['load_and_first_run_ms']:.1f} ms."]
    return "\n".join(lines) + "\n"


def write_results(result: dict, markdown: str, out_dir: str, stem: str) -> list:
    """Writes <stem>.json and <stem>.md into out_dir; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, f"{stem}.json"), os.path.join(out_dir, f"{stem}.md")]
    with open(paths[0], "w") as f:
        json.dump(result, f, indent=1, default=str)
    with open(paths[1], "w") as f:
        f.write(markdown)
    return paths


def write_chart(result: dict, path: str) -> bool:
    """Writes the host latency bar chart; False (and a note) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib not installed, no chart (pip install .[bench])", file=sys.stderr)
        return False
    host = result["host"].get("1", {})
    names = sorted(host)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.barh(names, [host[n]["median_ms"] for n in names], color="#4477aa")
    ax.set_xlabel("ms per ResNet-18 forward pass (host, 1 thread, median)")
    ax.set_title("irnet-infer vs peers")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def resnet18_table(result: dict, args, threads: list[int]) -> dict:
    """The paper's Table 5 on ResNet-18 into `result`; returns the model files."""
    files = model_zoo.build(args.work_dir)
    result.update({"host": {}, "skipped": {}, "sizes": {}})
    for key, f in files.items():
        # The shift variant stores one shift per binary output channel (paper: +0.01 MB).
        shift_bytes = f.binary_out_channels if key == "irnet" else 0
        result["sizes"][key] = {"irb_bytes": os.path.getsize(f.irb), "irb_mb": os.path.getsize(f.irb) / 1e6,
                                "paper_accounting_mb": paper_size_mb(f.fp_params, f.binary_params, shift_bytes),
                                "fp_params": f.fp_params, "binary_params": f.binary_params}
    for t in threads:
        print(f"[table5] host latency, {t} thread(s), {args.runs} runs ...", flush=True)
        host, skipped = host_latency(files, t, args.runs, args.warmup, args.work_dir, all_peers=not args.quick)
        result["host"][str(t)] = host
        result["skipped"].update(skipped)
    if len(threads) > 1:
        print(f"[table5] thread scaling {threads}, {2 * args.runs} runs each, interleaved ...", flush=True)
        result["threads"] = thread_scaling(files["irnet"].irb, threads, 2 * args.runs, args.warmup)
    result["load_and_first_run_ms"] = load_and_first_run_ms(files["irnet"].irb)
    result["macs"] = model_macs(files)
    if not args.no_qemu:
        from . import arm_table
        result["qemu"], result["a53"], result["a53_method"] = arm_table.measure(files)
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.table5", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="< 1 minute: 5 runs, host only, onnxruntime as the only peer, output in the work dir")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2,4")
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--out-dir", help="where benchmarks.{md,json,png} go (default: docs/ for a complete "
                    "--model all run, else the work dir)")
    ap.add_argument("--no-qemu", action="store_true", help="skip the qemu instruction counts")
    ap.add_argument("--model", choices=("resnet18", *model_zoo.NETWORKS, "all"), default="resnet18",
                    help="ResNet-18's Table 5 (default), one network's rows (ReActNet-A, Bi-Real ResNet-18; "
                         "output in the work dir unless --out-dir), or all of them (the docs' run, with "
                         "--threads 1,2)")
    ap.add_argument("--irb", metavar="MODEL.irb",
                    help="time this converted model only, with the runtime alone (no torch, onnx or "
                    "onnxruntime: the Raspberry Pi mode); writes irb_benchmark.{md,json} to the work dir")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.warmup, args.no_qemu = 5, 1, True
    complete = args.model == "all" and not args.quick and not args.irb
    out_dir = args.out_dir or (os.path.join(ROOT, "docs") if complete else args.work_dir)
    threads = [int(t) for t in args.threads.split(",")]

    result = {"command": "python -m benchmarks.table5 " + " ".join(argv if argv is not None else sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_info(),
              "quick": args.quick}
    if args.irb:
        print(f"[table5] {args.irb}: threads {threads}, {args.runs} runs each, interleaved ...", flush=True)
        result["irb"] = measure_irb(args.irb, threads, args.runs, args.warmup)
        markdown = render_irb_markdown(result)
        paths = write_results(result, markdown, out_dir, "irb_benchmark")
        print(markdown)
        print("[table5] wrote " + ", ".join(paths))
        return 0

    balance_files = {}
    if args.model in ("resnet18", "all"):
        try:
            files = resnet18_table(result, args, threads)
        except ModuleNotFoundError as e:
            if (e.name or "").split(".")[0] not in ("torch", "onnx", "onnxscript"):
                raise
            print(f"[table5] building the ResNet-18 models needs the '{e.name}' package: pip install "
                  "'.[bench]' (a PC, not a Raspberry Pi). To time a model converted elsewhere with the "
                  "runtime only: python -m benchmarks.table5 --irb MODEL.irb", file=sys.stderr)
            return 1
        balance_files["irnet"] = files["irnet"]
    for key in model_zoo.NETWORKS:
        if args.model not in (key, "all"):
            continue
        print(f"[table5] {MODEL_TITLES[key]}: export, convert, host, outputs, qemu ...", flush=True)
        try:
            files = model_zoo.build_network(key, args.work_dir)
        except Exception as e:  # the converter's refusal, reported as the rows' reason
            result[key] = {"skipped": f"building {key}.irb failed: {type(e).__name__}: {e}"}
        else:
            result[key] = network_rows(files, args.runs, args.warmup, () if args.no_qemu else ("arm64", "arm32"))
            if key in BALANCE_NETWORKS:
                balance_files[key] = files
    if not args.no_qemu and balance_files:
        from . import arm_table
        print(f"[table5] 4 threads per guest thread, aarch64: {', '.join(balance_files)} ...", flush=True)
        result["balance"] = arm_table.measure_balance(balance_files)

    to_docs = os.path.abspath(out_dir) == os.path.join(ROOT, "docs")
    if to_docs:
        from . import doc_figures
        try:
            doc_figures.rendered_pages(result)
        except doc_figures.DocFiguresError as e:  # docs/ stay as one complete run left them
            print(f"note: docs/ not updated ({e}); writing into {args.work_dir}", file=sys.stderr)
            out_dir, to_docs = args.work_dir, False
    markdown = render_markdown(result)
    paths = write_results(result, markdown, out_dir, "benchmarks")
    chart = os.path.join(out_dir, "benchmarks.png")
    if "sizes" in result and write_chart(result, chart):
        paths.append(chart)
    if to_docs:
        doc_figures.update(result)  # the README's and performance.md's figures of this run
        paths += [os.path.join(ROOT, page) for page in doc_figures.BLOCKS]
    print(markdown)
    print("[table5] wrote " + ", ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

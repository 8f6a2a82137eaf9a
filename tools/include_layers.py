"""The engine's include graph by folder, checked against its layering.

    python tools/include_layers.py            # the graph; exit 1 on a violation
    python tools/include_layers.py --check    # violations only

Every folder under engine/src is a layer that may include only itself, the
public headers (engine/include/irnet/) and the layers LAYERS allows it. core/
is the shared vocabulary and includes nothing else of the engine; the file
format, the graph runtime and the kernels depend on core/ and never upward (on
graph/ or ops/) or on each other outside the table. A new folder must be added
to LAYERS before it passes.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "engine" / "src"

FOUNDATION = {"core", "common", "cpu"}  # vocabulary, shared kernel helpers, CPU features
KERNELS = {"bitpack", "bgemm", "fconv", "bconv"}
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "common": {"core"},
    "cpu": {"core", "common"},
    "format": FOUNDATION,
    "bitpack": FOUNDATION,
    "bgemm": FOUNDATION,
    "fconv": FOUNDATION,
    "bconv": FOUNDATION | {"bitpack", "bgemm"},  # the binary conv packs and multiplies
    "graph": {"core", "common", "format"},
    "ops": FOUNDATION | KERNELS | {"graph"},  # ops implement graph/op.h with the kernels
}

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', re.MULTILINE)


def includes(source: Path = SOURCE):
    """(file, line, including layer, included path) for every quoted include under source."""
    for path in sorted(source.rglob("*")):
        if path.suffix not in {".h", ".cc", ".S"}:
            continue
        layer = path.relative_to(source).parts[0]
        text = path.read_text()
        for match in INCLUDE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield path.relative_to(source), line, layer, match.group(1)


def check(source: Path = SOURCE) -> tuple[Counter, list[str]]:
    """(edge counts (layer, included layer), violation messages)."""
    edges: Counter = Counter()
    violations = []
    for path, line, layer, target in includes(source):
        target_layer = target.split("/")[0] if "/" in target else layer
        if target_layer == "irnet":
            continue
        edges[(layer, target_layer)] += 1
        if target_layer == layer:
            continue
        if layer not in LAYERS:
            violations.append(f"{path}:{line}: folder {layer}/ is not in the layering (tools/include_layers.py)")
        elif target_layer not in LAYERS[layer]:
            allowed = ", ".join(sorted(LAYERS[layer])) or "nothing"
            violations.append(f"{path}:{line}: {layer}/ includes \"{target}\"; {layer}/ may include {allowed}")
    return edges, violations


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="print only the violations")
    args = parser.parse_args(argv)
    edges, violations = check()
    if not args.check:
        for layer in sorted({a for a, _ in edges}):
            targets = ", ".join(f"{b} ({n})" for (a, b), n in sorted(edges.items()) if a == layer and b != layer)
            print(f"{layer:8s} -> {targets or '-'}")
    for v in violations:
        print(v, file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())

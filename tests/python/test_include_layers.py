"""The engine's layering (tools/include_layers.py): core/ includes nothing else
of the engine, and format/, graph/ and the kernels never include upward."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import include_layers  # noqa: E402


def test_engine_includes_follow_the_layering():
    edges, violations = include_layers.check()
    assert ("graph", "core") in edges  # the scan saw the engine's sources
    assert violations == []


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_upward_and_unknown_includes_are_reported(tmp_path):
    write(tmp_path, "core/types.h", '#pragma once\n#include "irnet/error.h"\n')
    write(tmp_path, "format/irb_file.h", '#pragma once\n\n#include "core/types.h"\n#include "graph/op.h"\n')
    write(tmp_path, "core/check.h", '#include "bitpack/bitpack.h"\n')
    write(tmp_path, "bgemm/bgemm.h", '#include "bitpack/bitpack.h"\n')
    write(tmp_path, "newdir/x.cc", '#include "core/types.h"\n')
    write(tmp_path, "ops/add.cc", '#include "graph/op.h"\n#include "bgemm/bgemm.h"\n')
    _, violations = include_layers.check(tmp_path)
    assert violations == [
        'bgemm/bgemm.h:1: bgemm/ includes "bitpack/bitpack.h"; bgemm/ may include common, core, cpu',
        'core/check.h:1: core/ includes "bitpack/bitpack.h"; core/ may include nothing',
        'format/irb_file.h:4: format/ includes "graph/op.h"; format/ may include common, core, cpu',
        "newdir/x.cc:1: folder newdir/ is not in the layering (tools/include_layers.py)",
    ]

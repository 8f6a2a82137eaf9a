"""The `irnet-run` console script: execs the native irnet-run binary.

The binary is installed by CMake into irnet_infer/bin/ next to the compiled
engine. IRNET_RUN=/path/to/irnet-run overrides the lookup (e.g. a cross-built
binary run through qemu by a wrapper).
"""
from __future__ import annotations

import os
import sys
from typing import List, Optional


def find_irnet_run() -> Optional[str]:
    """Path of the native irnet-run binary, or None if it is not installed."""
    override = os.environ.get("IRNET_RUN")
    if override:
        return override
    candidates = []
    try:
        from . import _engine  # the binary is installed beside the extension
        candidates.append(os.path.join(os.path.dirname(_engine.__file__), "bin", "irnet-run"))
    except ImportError:
        pass
    candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "irnet-run"))
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def run_main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    exe = find_irnet_run()
    if exe is None:
        sys.stderr.write(
            "irnet-run: the native binary is not installed (looked in irnet_infer/bin/ beside the "
            "compiled engine). Build it with `pip install --no-build-isolation -e .` "
            "(IRNET_BUILD_TOOLS=ON), or point IRNET_RUN at a built irnet-run.\n")
        return 1
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        sys.stderr.write(f"irnet-run: IRNET_RUN={exe} is not an executable file\n")
        return 1
    sys.stdout.flush()
    os.execv(exe, [exe] + args)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(run_main())

"""Tests marked `torch` need PyTorch (the train extra). Without it they are skipped, unless
IRNET_REQUIRE_TORCH=1 (CI sets it and installs torch): then a missing torch is an error.
A module whose imports need torch carries `pytestmark = pytest.mark.torch` and imports it
with pytest.importorskip, which the check below turns into an error under IRNET_REQUIRE_TORCH=1."""
import os

import pytest

try:
    import torch  # noqa: F401
    TORCH_ERROR = None
except ImportError as e:
    TORCH_ERROR = str(e)


def pytest_configure(config):
    if TORCH_ERROR is not None and os.environ.get("IRNET_REQUIRE_TORCH") == "1":
        raise pytest.UsageError(f"IRNET_REQUIRE_TORCH=1 but torch cannot be imported ({TORCH_ERROR}): "
                                "install the train extra (IRNET_REQUIRE_TORCH=1 scripts/bootstrap.sh does)")


def pytest_collection_modifyitems(config, items):
    if TORCH_ERROR is None:
        return
    skip = pytest.mark.skip(reason=f"needs torch, the train extra ({TORCH_ERROR})")
    for item in items:
        if item.get_closest_marker("torch") is not None:
            item.add_marker(skip)

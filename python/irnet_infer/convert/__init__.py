"""ONNX → .irb conversion for irnet-infer (see docs/converter.md).

    from irnet_infer.convert import convert
    report = convert("model.onnx", "model.irb")
"""
from .cli import main
from .converter import convert
from .graph import ConvertError

__all__ = ["convert", "main", "ConvertError"]

"""PyTorch IR-Net tools: binary layers, model definitions, ONNX export, digits training.

Needs the ``train`` extra (``pip install .[train]``); never imported by the runtime.
"""

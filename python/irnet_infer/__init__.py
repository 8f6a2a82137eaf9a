"""irnet-infer: binary neural network inference for IR-Net models.

    import irnet_infer
    m = irnet_infer.Model("model.irb", threads=2)
    y = m.run(x)              # float32 NCHW in, numpy array(s) out

The compiled engine lives in irnet_infer._engine; the pure-Python parts (the
.irb writer/reader in irnet_infer.irb and the converter) work without it.
"""
__version__ = "0.1.0"

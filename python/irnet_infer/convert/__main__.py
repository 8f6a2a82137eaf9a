"""`python -m irnet_infer.convert` is the irnet-convert command."""
import sys

from .cli import main

sys.exit(main())

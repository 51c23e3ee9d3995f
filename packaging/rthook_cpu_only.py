"""Run-time hook of --cpu-only bundles: their CUDA libraries are trimmed, so hide every GPU.

Without this, a machine with an NVIDIA driver would report CUDA as available and fail in the
first convolution (the cuDNN engines are not in the bundle); hidden, the app picks the CPU.
"""

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""

"""The test kit: builders of tiny real GGUF models and the vocabulary they use, outside the runtime package.

Tests and benchmarks import it (``from tests.kit.synthetic import build_model``); it puts the
training package's folder (``training/``, home of the GGUF writer) on the import path when that
package is not installed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_TRAINING = Path(__file__).resolve().parents[2] / "training"
if importlib.util.find_spec("slm_lsp_train") is None and _TRAINING.is_dir():
    sys.path.append(str(_TRAINING))

"""slm-lsp's benchmark suite: ``python -m bench {latency,index,review,quality,remote}`` (see ``bench/README.md``).

Run from a checkout: it uses the test kit (``tests/kit``) and the training package
(``training/slm_lsp_train``, put on the import path here when it is not installed).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_TRAINING = Path(__file__).resolve().parent.parent / "training"
if importlib.util.find_spec("slm_lsp_train") is None and _TRAINING.is_dir():
    sys.path.append(str(_TRAINING))

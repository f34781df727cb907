"""Training recipe for slm-lsp's own small fill-in-the-middle code model: corpus, tokenizer, pretraining, fine-tuning, GGUF export and evaluation.

A package of its own, outside the runtime package ``slm_lsp``: install it from a checkout with
``pip install ./training`` (a CPU build of torch first where no GPU is wanted, see the model card).
Only `config`, `corpus`, `fim`, `export`, `gguf_llama`, `reference` and `evaluate` work without
torch; `model`, `pretrain` and `finetune` need it.
"""

from pathlib import Path

#: Our trained model and its card, beside this package (``training/models``): finetune's default base.
BASE_MODEL = Path(__file__).resolve().parent.parent / "models" / "slm-fim-40m.q8_0.gguf"

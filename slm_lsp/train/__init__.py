"""Training recipe for slm-lsp's own small fill-in-the-middle code model: corpus, tokenizer, pretraining, fine-tuning, GGUF export and evaluation.

Only `config`, `corpus`, `fim`, `export`, `reference` and `evaluate` work without the optional
`train` dependencies; `model`, `pretrain` and `finetune` need torch (``pip install 'slm-lsp[train]'``
with a CPU build of torch, see the model card).
"""

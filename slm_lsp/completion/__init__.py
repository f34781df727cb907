"""The completion pipeline, shared by the server and ``slm-lsp complete``; no LSP types here.

``document`` holds the values passed around, ``budgets`` sizes the prompt to the latency target,
``service`` plans, prompts, fits and runs, ``vetting`` checks each suggestion (parse, security),
``cache`` serves typing-through without the model.
"""

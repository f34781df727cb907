"""Prompts: FIM templates per model family (data in ``families.toml``) and post-processing (pure)."""

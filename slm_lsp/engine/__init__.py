"""Generation backends behind one small interface (``base.Engine``); only this package imports llama_cpp."""

"""A small example for the quick start: `python -m slm_lsp complete examples/words.py:12:21`."""


def read_lines(path):
    """Return the lines of a text file."""
    with open(path) as fh:
        return fh.read().splitlines()


def count_words(text):
    """Return the number of words in text."""
    return len(text.

"""One module per LSP method group; each exposes ``register(server)``. Only this package and
``server.py`` import pygls or lsprotocol."""

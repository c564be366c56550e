"""The editor service: `graphdl lsp`, a Language Server Protocol server that answers from the
checker (diagnostics, hover, inlay hints, definitions and references, completion, rename,
formatting, outline, folding), and the Pygments lexer that colours `.dlg` text."""

__all__ = ["server"]


def __getattr__(name: str):
    # The server is imported on first use: Pygments loads the lexer (graphdl.editor.lexer)
    # through this package, and needs neither pygls nor the checker for it.
    if name == "server":
        from graphdl.editor._server import server

        return server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

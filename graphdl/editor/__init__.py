"""The editor service: `graphdl lsp`, a Language Server Protocol server that answers from the
checker (diagnostics, hover, inlay hints, definitions and references, completion, rename,
formatting, outline, folding), and the Pygments lexer that colours `.dlg` text."""

"""The `graphdl` command. Each subcommand imports only what it uses, so that `graphdl --help`,
`layers`, `explain` and `fmt` start quickly."""

from graphdl.cli._main import main

__all__ = ["main"]

"""Handlers that cannot end a session: each feature's handler answers an empty result where it
raises, the exception logged on stderr and to the client's log, so that a bug met on one request
costs that answer, not the editor's language service. A refusal meant for the user (an LSP error
such as "that name is taken") passes through as the error it is."""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import Callable

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

logger = logging.getLogger("graphdl.editor")


def guarded(ls: LanguageServer) -> Callable:
    """`@feature(method, empty, options=None)`: register a handler on `ls` that answers `empty`
    where it raises."""

    def feature(method: str, empty, options=None) -> Callable:
        def decorate(handler):
            def failed(e: Exception):
                logger.exception("%s failed", method)
                text = f"graphdl: {method} failed: {e!r}\n{traceback.format_exc()}"
                ls.window_log_message(types.LogMessageParams(types.MessageType.Error, text))
                return empty

            if asyncio.iscoroutinefunction(handler):

                @functools.wraps(handler)
                async def answer(ls, params):
                    try:
                        return await handler(ls, params)
                    except JsonRpcException:
                        raise
                    except Exception as e:
                        return failed(e)

            else:

                @functools.wraps(handler)
                def answer(ls, params):
                    try:
                        return handler(ls, params)
                    except JsonRpcException:
                        raise
                    except Exception as e:
                        return failed(e)

            return ls.feature(method, options)(answer) if options is not None else ls.feature(method)(answer)

        return decorate

    return feature

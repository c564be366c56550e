"""The torch modules that built-in layer kinds build where torch has no ready one, a file per family.

Only `build` methods import these files, so the front end (check, render, summary) never loads
torch. Each module keeps torch's parameter names (`weight`, `bias`), so a compiled network's
`state_dict` reads like a hand-written one.
"""

import torch
import torch.fx._symbolic_trace


def checks_values() -> bool:
    """Whether checks that read a tensor's values or sizes run: in eager mode, yes; while
    torch.compile, torch.export or torch.fx.symbolic_trace trace the module, no: the values are
    not known then, and a traced graph cannot raise errors anyway."""
    compiler = getattr(torch, "compiler", None)
    is_compiling = getattr(compiler, "is_compiling", None) or torch._dynamo.is_compiling  # torch < 2.3
    fx = torch.fx._symbolic_trace
    symbolic = getattr(fx, "is_fx_symbolic_tracing", None) or (lambda: getattr(fx, "_is_fx_tracing_flag", False))  # older torch
    return not (is_compiling() or symbolic())

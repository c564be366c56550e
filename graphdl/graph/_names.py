"""What may name a layer.

A layer's name becomes an attribute path of the compiled network (`net.conv1`,
`net.stage2.0.conv1` inside block instances) and appears in its generated forward, so each part
must be a Python identifier (later parts may be numbers) that is not a keyword, and must not hide
an attribute of the compiled network (a torch Module and a DLNetwork) or of the fx GraphModule
that TorchScript export makes of it. Parts that start with `_` are reserved for the implementation. The
list is checked against the installed torch by the tests, and the compiler checks again at run
time.
"""

from __future__ import annotations

import keyword
import re

NETWORK_ATTRIBUTES = frozenset(
    """
    add_module add_submodule analysis apply bfloat16 buffers call_super_init children code compile cpu cuda
    delete_all_unused_submodules delete_submodule device double dump_patches eval extra_repr float forward
    freeze get_buffer get_extra_state get_parameter get_submodule graph half inference initialize input_names
    ipu l2_factor layer_modules layer_names learn_rate_factor learnables load_state_dict meta modules mtia named_buffers
    named_children named_modules named_parameters output_names param_groups parameters predict print_readable recompile
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook replace_layer requires_grad_ reset_input_normalization reset_input_normalization_from set_extra_state set_l2_factor
    set_learn_rate_factor set_submodule shape_env share_memory state state_dict T_destination to to_empty
    to_folder train training type unfreeze xpu zero_grad
    """.split()
)


# Names the generated forward itself uses: `self` is the module, `torch` a global of the code.
GENERATED_CODE_NAMES = frozenset({"self", "torch", "fx_pytree", "pytree"})


_PART = re.compile(r"[A-Za-z0-9_]+")


def name_problem(name: object) -> str | None:
    """Why `name` cannot name a layer, or None if it can."""
    parts = name.split(".") if isinstance(name, str) else []
    if not parts or not parts[0].isidentifier() or not parts[0].isascii() or not all(_PART.fullmatch(p) for p in parts):
        return f"a layer name must be an identifier, or identifiers and numbers joined by dots, not {name!r}"
    for part in parts:
        if keyword.iskeyword(part):
            return f"`{part}` is a Python keyword, so it cannot name a layer"
        if part.startswith("_"):
            return f"`{part}`: names that start with `_` are reserved"
        if part in NETWORK_ATTRIBUTES:
            return f"`{part}` cannot name a layer: the compiled network has an attribute `{part}`"
    if parts[0] in GENERATED_CODE_NAMES:
        return f"`{parts[0]}` cannot name a layer: the compiled network's code uses that name"
    return None

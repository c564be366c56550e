"""A compiled network as a standalone PyTorch module: Python source to copy into a project.

The module is written as one would write it by hand: an `nn.Module` class whose `__init__` builds
each layer's module under the layer's name (block instances as nested `nn.ModuleDict`s, so that
`state_dict` keys are the network's own: `layer1.0.conv1.weight`) and whose `forward` is the
network's generated forward. Torch's modules are written from their own description
(`nn.Conv2d(1, 20, kernel_size=(5, 5), ...)`); graphdl's few modules of its own are copied in,
source and all, so the file needs torch alone. Each module written is built again from its text
and compared with the original, so what cannot be written faithfully is an error, not a file
that computes something else.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import textwrap
import types

from torch import nn

from graphdl.compiler import forward_graph
from graphdl.diagnostics import error

# What the copied sources and the forward may use, imported at the top of the file.
HEADER_IMPORTS = {
    "math": "import math",
    "torch": "import torch",
    "F": "import torch.nn.functional as F",
    "nn": "from torch import nn",
}


def to_python(net) -> str:
    """The Python source of a module computing what `net` computes, with the same `state_dict`
    keys: `model.load_state_dict(net.state_dict())` gives it the network's weights."""
    writer = _Writer()
    tree: dict = {}
    modules = net.layer_modules
    for name, module in modules.items():
        *holders, last = name.split(".")
        node = tree
        for holder in holders:
            node = node.setdefault(holder, {})
        node[last] = writer.construct(module, name)
    python = forward_graph(net.analysis, modules).python_code(root_module="self")
    unknown = (_names(python.src) & set(python.globals)) - set(HEADER_IMPORTS) - set(dir(builtins))
    if unknown:
        raise error("E701", f"cannot write network `{net.graph.name}` as Python: its forward uses {', '.join(sorted(unknown))}")
    class_name = _class_name(net.graph.name, taken=set(writer.needed) | set(HEADER_IMPORTS))
    lines = [
        f'"""{class_name}: network `{net.graph.name}` of graphdl, as a PyTorch module.',
        "",
        "Written by `graphdl compile --emit python`. Its weights: model.load_state_dict(state_dict), with",
        "the state_dict of the compiled network (net.state_dict()) or of a network file",
        '(torch.load(path, weights_only=True)["state_dict"])."""',
        "",
        "from __future__ import annotations",
        "",
        *HEADER_IMPORTS.values(),
        "",
    ]
    for source in writer.sources():
        lines += ["", source.rstrip(), ""]
    if any(not isinstance(value, str) for value in tree.values()):
        lines += ["", _LAYERS.strip(), ""]
    lines += ["", f"class {class_name}(nn.Module):", "    def __init__(self):", "        super().__init__()"]
    for key, value in tree.items():
        lines.append(f"        self.{key} = {_nested(value, 2)}")
    lines.append("")
    forward = python.src.strip("\n").rstrip().splitlines()
    training_only = net.graph.training_outputs
    if training_only:
        # Outputs computed in training only (an auxiliary head): evaluation computes the others.
        evaluated = [name for name in net.output_names if name not in training_only]
        evaluation = forward_graph(net.analysis, modules, evaluated).python_code(root_module="self").src.strip("\n").rstrip().splitlines()
        definition, *body = forward
        call = definition.removeprefix("def forward(").removesuffix("):").removeprefix("self").lstrip(", ")
        forward = [definition, "    if not self.training:", f"        return self.evaluation_forward({call})", *body, ""]
        forward += [evaluation[0].replace("def forward(", "def evaluation_forward(", 1), *evaluation[1:]]
    lines += ["    " + line if line else "" for line in forward]
    return "\n".join(lines) + "\n"


class _Writer:
    """Writes modules as constructor calls, and collects the graphdl classes and functions those
    calls need, with whatever graphdl code they use in turn."""

    def __init__(self):
        self.needed: dict[str, object] = {}  # graphdl classes and functions, by name, in first-use order
        self._visiting: set[str] = set()  # those whose names are being followed: two may use each other

    def construct(self, module: nn.Module, layer: str) -> str:
        text = self.expression(module)
        self.check(module, text, layer)
        return text

    def expression(self, module: nn.Module) -> str:
        cls = type(module)
        if cls.__module__.startswith("torch.nn."):
            return f"nn.{cls.__name__}({', '.join([module.extra_repr(), *_unshown(module)])})"
        if not cls.__module__.startswith("graphdl."):
            raise error("E701", f"{cls.__module__}.{cls.__qualname__} is not a module of torch's or graphdl's")
        self.need(cls)
        init = next(c.__init__ for c in cls.__mro__ if "__init__" in vars(c))
        if not getattr(init, "__module__", "").startswith("graphdl."):
            return f"{cls.__name__}({module.extra_repr()})"  # a torch module's constructor, inherited
        arguments = []
        for parameter in list(inspect.signature(init).parameters.values())[1:]:
            if parameter.kind is parameter.VAR_POSITIONAL:  # the torch base's own arguments
                arguments.append(module.extra_repr())
            elif parameter.kind is not parameter.VAR_KEYWORD:
                value = getattr(module, parameter.name)
                text = self.expression(value) if isinstance(value, nn.Module) else _literal(value)
                arguments.append(text if parameter.kind is parameter.POSITIONAL_OR_KEYWORD else f"{parameter.name}={text}")
        return f"{cls.__name__}({', '.join(arguments)})"

    def need(self, item) -> None:
        """Include a graphdl class or function, the graphdl bases and names its source uses first."""
        if item.__name__ in self.needed or item.__name__ in self._visiting:
            return
        self._visiting.add(item.__name__)
        bases = [base for base in getattr(item, "__bases__", ()) if base.__module__.startswith("graphdl.")]
        for base in bases:
            self.need(base)
        home = vars(inspect.getmodule(item))
        for name in sorted(_names(inspect.getsource(item))):
            value = home.get(name)
            if name in HEADER_IMPORTS or name in dir(builtins) or value is None or value is item:
                continue
            if isinstance(value, (type, types.FunctionType)) and value.__module__.startswith("graphdl."):
                self.need(value)
            elif not isinstance(value, types.ModuleType) and name != "annotations":
                raise error("E701", f"cannot copy {item.__qualname__}: it uses `{name}`")
        self.needed[item.__name__] = item

    def sources(self) -> list[str]:
        return [textwrap.dedent(inspect.getsource(item)) for item in self.needed.values()]

    def check(self, module: nn.Module, text: str, layer: str) -> None:
        """Build the module again from its text: the same description, the same tensors."""
        namespace = dict(self.needed.items())
        namespace.update(nn=nn, math=math)
        try:
            rebuilt = eval(text, namespace)  # text this module just wrote, of graphdl's and torch's names
        except Exception as e:
            raise error("E701", f"cannot write layer `{layer}` as Python: {text} fails: {e}") from e
        shapes = {key: tuple(value.shape) for key, value in module.state_dict().items()}
        same = repr(rebuilt) == repr(module) and _settings(rebuilt) == _settings(module)
        if not same or shapes != {key: tuple(value.shape) for key, value in rebuilt.state_dict().items()}:
            raise error("E701", f"cannot write layer `{layer}` as Python: {text} builds {rebuilt!r}, not {module!r}")


def _unshown(module: nn.Module) -> list[str]:
    """`name=value` for the settings a torch module's description leaves out and that differ from
    their defaults: AvgPool2d's shows neither ceil_mode nor count_include_pad."""
    shown = module.extra_repr()
    arguments = []
    for parameter in list(inspect.signature(type(module).__init__).parameters.values())[1:]:
        if parameter.default is parameter.empty or f"{parameter.name}=" in shown or not hasattr(module, parameter.name):
            continue
        value = getattr(module, parameter.name)
        if isinstance(value, (bool, int, float, str, type(None))) and value != parameter.default:
            arguments.append(f"{parameter.name}={_literal(value)}")
    return arguments


def _settings(module: nn.Module) -> dict[str, object]:
    """A torch module's plain settings, which its description may not show all of."""
    if not type(module).__module__.startswith("torch.nn."):
        return {}
    plain = (bool, int, float, str, tuple)
    return {key: value for key, value in vars(module).items() if not key.startswith("_") and key != "training" and isinstance(value, plain)}


def _literal(value) -> str:
    """Python text of a constructor argument: numbers, strings, None, and tuples and lists of them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "math.nan" if math.isnan(value) else ("math.inf" if value > 0 else "-math.inf")
    if isinstance(value, (tuple, list)):
        items = ", ".join(map(_literal, value)) + ("," if isinstance(value, tuple) and len(value) == 1 else "")
        return f"({items})" if isinstance(value, tuple) else f"[{items}]"
    return repr(value)


def _names(source: str) -> set[str]:
    """The global names a piece of source reads."""
    return {node.id for node in ast.walk(ast.parse(textwrap.dedent(source))) if isinstance(node, ast.Name)}


def _nested(value, depth: int) -> str:
    if isinstance(value, str):
        return value
    indent = "    " * (depth + 1)
    items = "".join(f"{indent}{key!r}: {_nested(item, depth + 1)},\n" for key, item in value.items())
    return "_layers({\n" + items + "    " * depth + "})"


# The holder of a block instance's layers in the written module: a plain module, as in the
# compiled network (nn.ModuleDict would refuse layers named `keys`, `values`, `items`, ...).
_LAYERS = '''
def _layers(layers: dict) -> nn.Module:
    """A module holding a block instance's layers under their names."""
    holder = nn.Module()
    for name, layer in layers.items():
        holder.add_module(name, layer)
    return holder
'''


def _class_name(network: str, taken: set[str]) -> str:
    """The module's class, named after the network, and not after anything else in the file."""
    name = "".join(part[:1].upper() + part[1:] for part in network.split("_")) or "Network"
    while name in taken:
        name += "Network"
    return name

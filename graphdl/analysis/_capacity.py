"""Networks that check, yet no machine can hold: warnings with the numbers.

A network of `featureInput(2^31-1) -> fullyConnected(2^31-1)` is well formed, and compiling it
would ask for 18 exabytes. Past the sizes stated in `graphdl.limits` (far beyond the largest
device and the largest published network), `check` says how large it is, at the layer that makes
most of it, before anyone tries to build or train it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graphdl.analysis._inference import LayerInfo
from graphdl.diagnostics import Diagnostic, Severity
from graphdl.limits import LIMITS, raising

_FLOAT32 = 4


def check_capacity(infos: Mapping[str, LayerInfo]) -> Iterator[Diagnostic]:
    owners = [info for info in infos.values() if info.layer.shares is None]
    learnables = sum(info.num_learnables for info in owners)
    if learnables > LIMITS.learnables:
        largest = max(owners, key=lambda info: info.num_learnables)
        yield Diagnostic(
            "E405", f"the network has {amount(learnables)} learnables, {size(learnables * _FLOAT32)} of float32: no device holds it",
            largest.layer.name_span or largest.layer.span, f"{amount(largest.num_learnables)} of them",
            help=f"the warning comes past {amount(LIMITS.learnables)} learnables ({raising('learnables')})", severity=Severity.WARNING,
        )  # fmt: skip
    values = sum(info.memory for info in infos.values()) // _FLOAT32
    if values * _FLOAT32 > LIMITS.activation_bytes:
        largest = max(infos.values(), key=lambda info: info.memory)
        yield Diagnostic(
            "E405", f"one observation's activations are {amount(values)} values, {size(values * _FLOAT32)} of float32: no device holds them",
            largest.layer.name_span or largest.layer.span, f"outputs {amount(largest.memory // _FLOAT32)} of them",
            help=f"the warning comes past {size(LIMITS.activation_bytes)} ({raising('activation_bytes')})", severity=Severity.WARNING,
        )  # fmt: skip


def amount(n: int) -> str:
    """`4.6e18`; below a million, the number itself."""
    if n < 10**6:
        return f"{n:,}"
    return f"{float(n):.2g}".replace("e+", "e") if n < 10**300 else f"about 10^{len(str(n)) - 1}"


def size(n: int) -> str:
    """Bytes in decimal units, as disks and devices are sold: `18 EB`."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"):
        if n < 1000:
            return f"{n:.3g} {unit}" if isinstance(n, float) else f"{n} {unit}"
        n = n / 1000 if n < 10**300 else n // 1000
    return f"{float(n):.2g} YB" if n < 10**300 else f"about 10^{len(str(n)) + 23} B"

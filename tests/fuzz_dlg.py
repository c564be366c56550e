"""A seeded, grammar-aware mutation fuzzer for `.dlg` text and network files (issue 12).

Cases are mutants of real files: every `.dlg` file in examples/ and every dlg code block of the
docs, changed by one to three mutations drawn from what an attacker or a careless edit does:

- flip bytes;
- cut or repeat a span;
- swap two tokens;
- put in a token of the language or a hostile one (huge and negative numbers, deep nesting,
  control characters, a NUL in an import);
- truncate the text.

Network files are mutated the same way, as bytes: a saved network file truncated, bit-flipped or
with a field replaced.

Each case runs in a worker process that has an address-space limit. The parent gives each case a
wall-clock limit and kills a worker that passes it. Every case is classified:

- valid: the text checks, the network compiles, and a forward pass gives the shapes the analysis
  inferred;
- diagnostics: every diagnostic is positioned;
- and the failures: positionless, mismatch, traceback, hang and memory.

The suite runs a few hundred cases (tests/test_fuzz.py), and this script runs thousands:

    python tests/fuzz_dlg.py --cases 10000 --seconds 5 --memory-gib 4
    python tests/fuzz_dlg.py --network-files --cases 2000
"""

from __future__ import annotations

import argparse
import collections
import io
import math
import multiprocessing
import random
import re
import resource
import sys
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAILURES = ("positionless", "mismatch", "traceback", "hang", "memory", "code")

# Tokens of the language, and hostile ones.
TOKENS = [
    "network", "block", "import", "let", "for", "in", "..", "->", "=", ",", ";", ":", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/",
    "**", "^", "%", "relu()", "fullyConnected(10)", "convolution2d(3, 8)", "addition(2)", "depthConcatenation(3)", "featureInput(4)",
    "imageInput([28, 28, 1])", "softmax()", "0", "-1", "1", "2147483647", "2**31", "10**64", "1e308", "1e999", "-1e999", "0.5", "nan",
    "9" * 40, "0**-1", "(10**64)**64", "floor(1e999)", "max(1, 2)", "[1, 2, 3]", '"same"', '"\\0"', '"a\\u0000b"', "\x00", "\x07",
    "\u202e", "\ufeff", "\t", "\n", "\r\n", "#", "(" * 60, ")" * 60, "[" * 30, "x" * 300, "r = relu() for i in 0..1000000000",
    'import "/etc/passwd"', 'import "../../x.dlg"', "size", "n", "i", "block u() { r = relu() }",
    # Conditions, lists, sizes and recursion (issue 13).
    "if", "else", "if true {", "} else {", "if n > 1 { r = relu() }", "channels(x)", "size(input)", "channels(input)", "[0]", "[-1]", "[99]",
    "for w in [1, 2]", "for a, b in [[1, 2]]", "for w in []", "len([1, 2])", "enumerate([1])", "sum([1, 2])", "output aux if training",
    "block r(d) { if d > 0 { x = r(d - 1) } }", "x = r(60)", "1..0",
]


def corpus() -> dict[str, str]:
    """The texts mutated: examples/*.dlg and the docs' dlg code blocks, by name."""
    texts = {f"examples/{p.name}": p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.dlg"))}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, block in enumerate(re.findall(r"```dlg\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            texts[f"{doc.relative_to(ROOT)}#{n}"] = block
    return texts


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(_MUTATIONS)(text, rng)
    return text


def _flip(text, rng):
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return data.decode("utf-8", errors="replace")


def _cut(text, rng):
    a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    return text[:a] + text[b:]


def _repeat(text, rng):
    a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    return text[:b] + text[a:b] * rng.choice([2, 3, 10, 200]) + text[b:]


def _swap(text, rng):
    tokens = re.split(r"(\W)", text)
    if len(tokens) > 2:
        i, j = rng.randrange(len(tokens)), rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    return "".join(tokens)


def _insert(text, rng):
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(TOKENS) + text[at:]


def _replace_number(text, rng):
    numbers = list(re.finditer(r"\d+(\.\d+)?", text))
    if not numbers:
        return _insert(text, rng)
    m = rng.choice(numbers)
    return text[: m.start()] + rng.choice(["0", "-1", "2147483647", "10**64", "1e308", "99999999999999999999", "0.5", "2**40"]) + text[m.end() :]


def _truncate(text, rng):
    return text[: rng.randrange(len(text) + 1)]


_MUTATIONS = [_flip, _cut, _repeat, _swap, _insert, _insert, _replace_number, _truncate]


def dlg_cases(seed: int, count: int):
    texts = corpus()
    names = sorted(texts)
    rng = random.Random(seed)
    for index in range(count):
        name = rng.choice(names)
        yield index, name, mutate(texts[name], rng)


def network_file_cases(seed: int, count: int):
    """Mutants (bytes) of saved network files of the examples: truncated, bit-flipped, a span
    overwritten, a field of the payload given a wrong value, or a pickle that calls a function."""
    import tempfile

    import torch

    import graphdl

    saved, payloads = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for path in sorted((ROOT / "examples").glob("*.dlg"))[:4]:
            file = graphdl.save_network(graphdl.dlnetwork(graphdl.load(path), seed=0), Path(folder) / f"{path.stem}.pt")
            saved[path.name] = Path(file).read_bytes()
            payloads[path.name] = torch.load(file, weights_only=True)
    rng = random.Random(seed)
    names = sorted(saved)
    for index in range(count):
        name = rng.choice(names)
        data = bytearray(saved[name])
        kind = rng.randrange(5)
        if kind == 0:
            data = data[: rng.randrange(len(data))]
        elif kind == 1:
            for _ in range(rng.randint(1, 16)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 2:
            a = rng.randrange(len(data))
            data[a : a + rng.randint(1, 64)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        elif kind == 3:
            data = _crafted(payloads[name], rng, torch)
        else:
            data = _code_carrying(rng)
        yield index, name, bytes(data)


# Values a crafted field may take: wrong types, wrong shapes, huge and hostile.
_WRONG = [None, 0, -1, 10**30, 1e308, "", "x" * 1000, "\x00", [], [[]], [["a"]], [["fc", "weight"]], [["fc", "weight", "x"]], {}, {"a": 1},
          (1, 2), True, [1.5] * 3, {"format": "graphdl-network"}]


def _crafted(payload: dict, rng: random.Random, torch) -> bytes:
    """The payload with one field (or one item of a list field) replaced, saved again."""
    payload = dict(payload)
    field = rng.choice(sorted(payload))
    value = payload[field]
    if isinstance(value, list) and value and rng.random() < 0.5:
        value = list(value)
        value[rng.randrange(len(value))] = rng.choice(_WRONG)
    elif isinstance(value, dict) and value and rng.random() < 0.5:
        value = dict(value)
        value[rng.choice(sorted(value, key=str))] = rng.choice(_WRONG)
    else:
        value = rng.choice(_WRONG)
    payload[field] = value
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


# What a code-carrying pickle would create, were it run: the worker checks it after each load.
RAN = Path("/tmp/graphdl-fuzz-code-ran")


def _code_carrying(rng: random.Random) -> bytes:
    """A pickle that would call a function when loaded (what weights_only must refuse): one that
    creates RAN, given as the whole file or as one field of a real payload."""
    import pickle

    class Call:
        def __reduce__(self):
            return (open, (str(RAN), "w"))

    return pickle.dumps({"format": "graphdl-network", "state_dict": Call()} if rng.random() < 0.5 else Call(), protocol=2)


# ---- the worker ----------------------------------------------------------------------------------


def _worker(connection, memory_bytes: int, network_files: bool) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import torch

    import graphdl

    torch.set_num_threads(1)
    files = {f"examples/{p.name}": p.read_text(encoding="utf-8") for p in (ROOT / "examples").glob("*.dlg")}
    while True:
        case = connection.recv()
        if case is None:
            return
        try:
            result = _load_file(case, graphdl) if network_files else _check(case, graphdl, torch, files)
        except MemoryError:
            result = ("memory", "MemoryError")
        except BaseException:  # what the fuzzer looks for: anything escaping graphdl
            result = ("traceback", traceback.format_exc(limit=-3))
        connection.send(result)


def _check(text: str, graphdl, torch, files) -> tuple[str, str]:
    checked = graphdl.check_text(text, path="examples/case.dlg", files=files)
    if not checked.ok or checked.analysis is None:  # errors, or a file of blocks only (a library)
        lost = [d for d in checked.diagnostics if d.span is None]
        if lost and text.strip():
            return "positionless", f"{lost[0].code}: {lost[0].message}"
        return "diagnostics", checked.diagnostics[0].code if checked.diagnostics else ""
    analysis = checked.analysis
    if analysis.num_learnables > 5_000_000 or any(math.prod(analysis[n].output.torch_size(1)) > 1_000_000 for n in analysis.order):
        return "valid", "too large to run here"
    net = graphdl.dlnetwork(checked.graph, seed=0)
    inputs = [torch.rand(analysis[name].output.torch_size(2)) for name in net.input_names]
    outputs = net.predict(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for name, value in zip(net.output_names, outputs):
        if tuple(value.shape) != analysis[name].output.torch_size(2):
            return "mismatch", f"{name}: ran {tuple(value.shape)}, inferred {analysis[name].output.torch_size(2)}"
    return "valid", ""


def _load_file(data: bytes, graphdl) -> tuple[str, str]:
    path = Path(f"/tmp/graphdl-fuzz-case-{multiprocessing.current_process().pid}.pt")
    path.write_bytes(data)
    RAN.unlink(missing_ok=True)
    try:
        graphdl.load_network(path)
    except graphdl.GraphdlError as e:
        return "diagnostics", e.code
    finally:
        path.unlink(missing_ok=True)
        if RAN.exists():
            return "code", "loading the file ran code in it"  # noqa: B012 (this outcome is the one to report)
    return "valid", ""


class _Worker:
    def __init__(self, context, memory_bytes: int, network_files: bool):
        self.args = (context, memory_bytes, network_files)
        self.start()

    def start(self) -> None:
        context, memory_bytes, network_files = self.args
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, memory_bytes, network_files), daemon=True)
        self.process.start()
        child.close()
        self.case = None

    def restart(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()
        self.start()


def run(cases, seconds: float = 5.0, memory_gib: float = 4.0, workers: int = 2, network_files: bool = False):
    """Classify every case; returns (counts, failures): the count of each class, and for each
    failure (index, name, class, detail, the case)."""
    context = multiprocessing.get_context("spawn")
    pool = [_Worker(context, int(memory_gib * 2**30), network_files) for _ in range(workers)]
    counts: collections.Counter = collections.Counter()
    failures = []
    pending = iter(cases)
    busy: dict = {}  # worker -> (case, deadline)
    startup = 120.0  # the first case of a worker waits for its imports too
    try:
        while True:
            for worker in pool:
                if worker not in busy:
                    case = next(pending, None)
                    if case is not None:
                        worker.connection.send(case[2])
                        busy[worker] = (case, time.monotonic() + seconds + (startup if worker.case is None else 0))
                        worker.case = case
            if not busy:
                break
            ready = wait([w.connection for w in busy], timeout=0.05)
            for worker in list(busy):
                case, deadline = busy[worker]
                kind = detail = None
                if worker.connection in ready:
                    try:
                        kind, detail = worker.connection.recv()
                    except EOFError:  # the worker died: killed by the memory limit
                        kind, detail = "memory", f"the worker ended (exit code {worker.process.exitcode})"
                        worker.restart()
                elif time.monotonic() > deadline:
                    kind, detail = "hang", f"over {seconds} s"
                    worker.restart()
                if kind is None:
                    continue
                del busy[worker]
                counts[kind] += 1
                if kind in FAILURES:
                    failures.append((case[0], case[1], kind, detail, case[2]))
    finally:
        for worker in pool:
            if worker.process.is_alive():
                worker.process.kill()
    return counts, failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=5.0, help="wall-clock limit of one case (default 5)")
    parser.add_argument("--memory-gib", type=float, default=4.0, help="address-space limit of a worker (default 4)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--network-files", action="store_true", help="mutate saved network files instead of .dlg text")
    args = parser.parse_args(argv)
    source = network_file_cases if args.network_files else dlg_cases
    start = time.monotonic()
    counts, failures = run(source(args.seed, args.cases), args.seconds, args.memory_gib, args.workers, args.network_files)
    print(f"{args.cases} cases (seed {args.seed}) in {time.monotonic() - start:.0f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for index, name, kind, detail, case in failures[:20]:
        shown = case[:200] if isinstance(case, str) else f"{len(case)} bytes"
        print(f"\n#{index} ({name}) {kind}: {detail}\n{shown!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

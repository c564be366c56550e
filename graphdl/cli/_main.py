"""The `graphdl` command: check, summary, render, train, compile, export, fmt, layers, explain and lsp.

Exit status: 0 when all is well (warnings allowed), 1 when the network has errors or training
fails, 2 for a wrong command line. Diagnostics go to stderr, results to stdout. Only `train`,
`compile` and `export` import torch.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from graphdl.diagnostics import Diagnostic, GraphdlError, counted, error, render_all, writing

# Each command imports what it needs when it runs, so that `graphdl --help`, `layers`, `explain`
# and `fmt` start without loading the front end (networkx) or torch.
if TYPE_CHECKING:
    from graphdl._frontend import Checked


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except GraphdlError as e:
        _print_diagnostics(e.diagnostics, e.sources, args)
        return 1
    except BrokenPipeError:  # `graphdl summary x.dlg | head`
        return 0


def _parser() -> argparse.ArgumentParser:
    from graphdl import __version__

    parser = argparse.ArgumentParser(prog="graphdl", description="Define, check, draw and train neural networks written as .dlg layer graphs.")
    parser.add_argument("--version", action="version", version=f"graphdl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, run, help: str, needs_file: bool = True, file_help: str = "a .dlg file"):
        sub = commands.add_parser(name, help=help, description=help)
        if needs_file:
            sub.add_argument("file", help=file_help)
            sub.add_argument("--network", metavar="NAME", help="the network to use, when the file defines several")
            sub.add_argument(
                "--set", dest="parameters", metavar="NAME=VALUE", action="append", type=_assignment, default=[],
                help="set a parameter of the network (repeatable): --set classes=100 --set size=[32,32,3]",
            )
            sub.add_argument(
                "--search-path", metavar="DIR", action="append", default=None,
                help="look for imports in DIR too, after the importing file's folder (repeatable; default: $GRAPHDL_PATH)",
            )
            sub.add_argument(
                "--allow-outside-imports", action="store_true", help="let imports read files outside the file's folder and the search path"
            )
        sub.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour diagnostics (default: auto, on a terminal)")
        sub.set_defaults(run=run)
        return sub

    command("check", _check, "Check a network; print every problem found, with its place in the file.")
    summary = command("summary", _summary, "Print each layer's kind, activation size, learnables and costs, and the totals.")
    summary.add_argument("--json", action="store_true", help="print the summary as JSON")
    render = command("render", _render, "Draw the network with Graphviz, or as an interactive page.")
    render.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the picture to write; its suffix chooses the format: .svg, .png, .pdf, .dot or .html, a page to explore (default: NAME.svg)",
    )
    render.add_argument("--depth", type=_count, metavar="N", help="fold each block N levels down into one box (1: the top level; default: unfold all)")
    render.add_argument("--expand", action="append", default=[], metavar="BLOCK", help="draw BLOCK unfolded whatever --depth says (repeatable)")
    render.add_argument("--no-rollup", dest="rollup", action="store_false", help="draw each of a run of identical folded blocks, not one box `N x block`")
    render.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help="lay the layers out top to bottom or left to right (default: TB)")
    render.add_argument("--compact", action="store_true", help="only names in the boxes; the sizes stay on the arrows")
    render.add_argument("--legend", action="store_true", help="add a key of the colours")
    render.add_argument("--watch", action="store_true", help="redraw whenever the file or a file it imports changes, until Ctrl-C")
    train = command(
        "train", _train, "Train the network on an image folder, an array file or the built-in digit images, and report its accuracy on held-out data."
    )
    options = train.add_argument_group("training options (trainingOptions; the defaults are the seed's)")
    options.add_argument("--solver", choices=("sgdm", "adam", "rmsprop"), default="sgdm", help="default: sgdm")
    options.add_argument(
        "--max-epochs", type=_count, default=4, metavar="N", help="passes over the training data (default: 4; trainingOptions' own default is 30)"
    )
    options.add_argument("--initial-learn-rate", type=_positive, metavar="RATE", help="default: 0.01 for sgdm, 0.001 for adam and rmsprop")
    options.add_argument("--mini-batch-size", type=_count, default=128, metavar="N", help="default: 128")
    options.add_argument("--momentum", type=_fraction, default=0.9, help="sgdm's, in [0, 1] (default: 0.9)")
    options.add_argument(
        "--gradient-threshold", type=_positive, default=math.inf, metavar="T", help="clip each learnable's gradient to an L2 norm of T (default: no clipping)"
    )
    options.add_argument("--l2-regularization", type=_non_negative, default=1e-4, metavar="FACTOR", help="default: 1e-4")
    options.add_argument("--shuffle", choices=("once", "every-epoch", "never"), default="once", help="default: once")
    options.add_argument("--plots", type=_plot_file, metavar="FILE", help="write the training-progress plot to FILE (.png, .svg or .pdf)")
    options.add_argument("--checkpoint-path", metavar="DIR", help="write a checkpoint to DIR after each epoch (or as --checkpoint-frequency says)")
    options.add_argument("--checkpoint-frequency", type=_count, default=1, metavar="N", help="a checkpoint every N epochs or iterations (default: 1)")
    options.add_argument("--checkpoint-frequency-unit", choices=("epoch", "iteration"), default="epoch", help="default: epoch")
    options.add_argument(
        "--resume", metavar="CHECKPOINT", help="continue the run that wrote CHECKPOINT (a file, or a folder: its newest) to the weights it would have reached"
    )
    options.add_argument(
        "--execution-environment", type=_environment, default="auto", metavar="ENV",
        help="auto, cpu, gpu, multi-gpu, parallel (processes started by graphdl) or a torch device such as cuda:1 or mps "
        "(default: auto, a GPU if there is one); under torchrun each process takes its own GPU",
    )
    options.add_argument("--workers", type=_count, metavar="N", help="multi-gpu and parallel: how many processes (default: one a GPU, one a core)")
    options.add_argument(
        "--precision", choices=("fp32", "bf16", "fp16"), default="fp32", help="mixed precision: bf16 or fp16 autocast of the forward pass (default: fp32)"
    )
    options.add_argument("--channels-last", action="store_true", help="images in channels-last memory layout (faster convolutions on some hardware)")
    options.add_argument(
        "--sync-batch-norm", action="store_true", help="under torchrun: batch normalisation over the whole mini-batch, not each process's share"
    )
    options.add_argument(
        "--fully-shard", action="store_true", help="under torchrun: split the learnables among the processes (FSDP), for a network too large for one device"
    )
    options.add_argument("--learn-rate-schedule", choices=("none", "piecewise", "warmup", "cosine"), default="none", help="default: none")
    options.add_argument("--learn-rate-drop-factor", type=_fraction, default=0.1, metavar="F", help="piecewise: multiply the rate by F (default: 0.1)")
    options.add_argument("--learn-rate-drop-period", type=_count, default=10, metavar="N", help="piecewise: every N epochs (default: 10)")
    options.add_argument("--validation-frequency", type=_count, default=50, metavar="N", help="validate every N iterations (default: 50)")
    options.add_argument(
        "--validation-patience", type=_count, default=math.inf, metavar="N", help="stop after N validations without a lower loss (default: never)"
    )
    options.add_argument(
        "--output-network", choices=("auto", "last-iteration", "best-validation-loss"), default="auto",
        help="default: auto (the lowest validation loss's when there is validation data)",
    )
    options.add_argument("--metrics", type=_names, default=(), metavar="M,M", help="accuracy, top5-accuracy, fscore, rmse, ... (default: accuracy)")
    options.add_argument("--log-csv", metavar="FILE", help="write the history to FILE, one row per iteration")
    data = train.add_argument_group("data (the built-in digits unless --data)")
    data.add_argument(
        "--data", metavar="PATH", help="a folder of images, one subfolder per class (imageDatastore), or a .npz, .npy, IDX or .csv file (arrayDatastore)"
    )
    held_out = data.add_mutually_exclusive_group()
    held_out.add_argument("--validation-data", metavar="PATH", help="validation data as --data takes it")
    held_out.add_argument(
        "--validation-split", type=_open_fraction, metavar="F", help="hold out the fraction F of each class of --data for validation (splitEachLabel)"
    )
    data.add_argument("--num-workers", type=_natural, default=0, metavar="N", help="processes reading --data (default: 0, the training process)")
    data.add_argument("--train-size", type=_count, default=5000, metavar="N", help="built-in training images (default: 5000)")
    data.add_argument("--test-size", type=_count, default=5000, metavar="N", help="built-in test images (default: 5000)")
    data.add_argument("--seed", type=_natural, default=0, help="seed of the data, the initial weights and the shuffling (default: 0)")
    network_file = "a .dlg file, or a network file (graphdl.save_network, trainnet's checkpoints): the network and its weights"
    compile_ = command(
        "compile", _compile, "Compile a network and print it as a standalone PyTorch module, or as one flat .dlg network.", file_help=network_file
    )
    compile_.add_argument(
        "--emit",
        choices=("python", "dlg"),
        default="python",
        help="python: a PyTorch module needing torch alone (default); dlg: the network with its blocks expanded",
    )
    compile_.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    export = command("export", _export, "Export a network as ONNX or TorchScript, in inference behaviour, with the batch size free.", file_help=network_file)
    export.add_argument("--onnx", metavar="FILE", help='write an ONNX model (needs: pip install "graphdl[onnx]")')
    export.add_argument("--torchscript", metavar="FILE", help="write a TorchScript module (torch.jit.load)")
    export.add_argument("--weights", metavar="FILE", help="weights for a .dlg network: a network file or a saved state_dict (default: initial weights, seed 0)")
    fmt = command("fmt", _fmt, "Rewrite .dlg files in their canonical form, keeping their comments.", needs_file=False)
    fmt.add_argument("files", nargs="+", metavar="FILE", help=".dlg files; - reads standard input and writes standard output")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not in canonical form")
    command("layers", _layers, "List the layer kinds: their arguments, defaults and ports.", needs_file=False)
    explain = command("explain", _explain, "Explain a diagnostic code (such as E201): what it means, an example of the mistake and its fix.", needs_file=False)
    explain.add_argument("code", metavar="CODE", help="a diagnostic code, such as E201 (any case)")
    lsp = command("lsp", _lsp, "Run the language server for editors (Language Server Protocol), on standard input and output.", needs_file=False)
    lsp.add_argument("--tcp", action="store_true", help="serve on a TCP port instead (for debugging the server)")
    lsp.add_argument("--host", default="127.0.0.1", help="with --tcp: the address to listen on (default: 127.0.0.1)")
    lsp.add_argument("--port", type=_count, default=2087, help="with --tcp: the port to listen on (default: 2087)")
    return parser


def _assignment(text: str) -> tuple[str, object]:
    from graphdl.elaborate import parameter_value

    name, equals, value = text.partition("=")
    if not equals or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name.strip(), parameter_value(value.strip())


def _number(kind, check, wanted: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not check(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, not {text!r}")
        return value

    return parse


_count = _number(int, lambda v: v >= 1, "a positive integer")
_natural = _number(int, lambda v: v >= 0, "a non-negative integer")
_positive = _number(float, lambda v: 0 < v < float("inf"), "a positive number")
_non_negative = _number(float, lambda v: 0 <= v < float("inf"), "a non-negative number")
_fraction = _number(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")
_open_fraction = _number(float, lambda v: 0 < v < 1, "a fraction in (0, 1)")


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _environment(text: str) -> str:
    # The device itself is checked by training_options (torch is not imported to read arguments).
    if text in ("auto", "cpu", "gpu", "multi-gpu", "parallel") or re.fullmatch(r"[a-z]+(:\d+)?", text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: give auto, cpu, gpu or a torch device such as cuda:1")


def _plot_file(text: str) -> str:
    from graphdl.train import PLOT_FORMATS

    if Path(text).suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise argparse.ArgumentTypeError(f"{text!r}: the plot's suffix must be one of {', '.join('.' + f for f in PLOT_FORMATS)}")
    return text


# ---- commands --------------------------------------------------------------------------------------


def _check(args) -> int:
    every = _checked_each(args, network_needed=False)
    for checked in every:
        if checked.ok and checked.graph is None:  # a file of blocks only: a library, valid as such
            print(f"{args.file}: no network to check; its blocks are checked where a network uses them")
        elif checked.ok:
            graph, analysis = checked.graph, checked.analysis
            print(f"{args.file}: network `{graph.name}` is valid: {len(graph)} layers, {analysis.num_learnables:,} learnables")
    return 0 if all(checked.ok for checked in every) else 1


def _summary(args) -> int:
    from graphdl.views import summary, summary_data

    every = _checked_each(args)
    if not all(checked.ok for checked in every):
        return 1
    if args.json:  # one network's summary, or a list of them
        import json

        data = [summary_data(checked.graph, checked.analysis) for checked in every]
        sys.stdout.write(json.dumps(data[0] if len(data) == 1 else data, indent=2) + "\n")
        return 0
    sys.stdout.write("\n".join(summary(checked.graph, checked.analysis) for checked in every))
    return 0


def _render(args) -> int:
    if not args.watch:
        return _draw(args)[0]
    try:
        while True:
            try:
                files = _draw(args)[1]
            except GraphdlError as e:  # Graphviz failed, or the picture cannot be written: say so, and go on watching
                _print_diagnostics(e.diagnostics, e.sources, args)
                files = {Path(args.file)}
            stamps = _stamps(files)
            print(f"watching {counted(len(files), 'file')} for changes (Ctrl-C to stop)", flush=True)
            while _stamps(files) == stamps:
                time.sleep(0.2)
            changed = ", ".join(str(f) for f in sorted(files) if _stamp(f) != stamps[f])
            print(f"\n[{time.strftime('%H:%M:%S')}] {changed} changed", flush=True)
    except KeyboardInterrupt:
        return 0


def _stamps(files) -> dict:
    return {f: _stamp(f) for f in files}


def _stamp(path: Path) -> tuple[int, int] | None:
    """When a file last changed, and its size; None while it is missing (an editor saving it by
    replacing it)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _draw(args) -> tuple[int, set[Path]]:
    """Draw each network of the file as the options say; the exit status, and the files read (the
    file and those it imports), which --watch watches."""
    from graphdl.views import render

    every = _checked_each(args)
    files = {Path(args.file)} | {Path(path) for checked in every for path in checked.sources}
    if any(checked.graph is None for checked in every):
        return 1, files
    picture = {option: getattr(args, option) for option in ("depth", "expand", "rollup", "rankdir", "compact", "legend")}
    for checked in every:
        name = checked.graph.name
        if args.output is None:
            output = Path(f"{name}.svg")
        elif len(every) == 1:
            output = Path(args.output)
        else:  # one picture per network: the name given, with the network's name added
            output = Path(args.output).with_name(f"{Path(args.output).stem}-{name}{Path(args.output).suffix}")
        render(checked.graph, output, checked.analysis, diagnostics=checked.diagnostics, **picture)
        print(f"wrote {output}" + ("" if checked.ok else " (layers with errors drawn in red)"), flush=True)
    return (0 if all(checked.ok for checked in every) else 1), files


def _train(args) -> int:
    if (args.validation_data or args.validation_split) and not args.data:
        print("error: --validation-data and --validation-split go with --data (the built-in digits have their own test images)", file=sys.stderr)
        return 2
    checked = _checked(args)
    if not checked.ok:
        return 1
    if args.data:
        return _train_on_files(args, checked)
    _check_digits_network(checked)
    import torch

    from graphdl.compiler import dlnetwork
    from graphdl.datasets import digits
    from graphdl.train import trainnet

    torch.manual_seed(args.seed)
    train_data = digits("train", args.train_size, seed=args.seed)
    test_data = digits("test", args.test_size, seed=args.seed)
    options = _training_options(args)
    net = dlnetwork(checked.graph, seed=args.seed)
    epochs = counted(options.max_epochs, "epoch")
    _say(f"training `{checked.graph.name}` on {len(train_data)} built-in digit images, {epochs} of {options.solver}")
    # Every refusal and failure of trainnet is a GraphdlError, printed by main as diagnostics.
    net, info = trainnet(train_data.images, train_data.labels, net, "crossentropy", options, resume=args.resume)
    with torch.no_grad():
        scores = net.predict(torch.as_tensor(test_data.images, device=net.device))
        accuracy = (scores.argmax(1).cpu() == torch.as_tensor(test_data.labels)).float().mean().item() * 100
    _say(f"test accuracy: {accuracy:.2f}% on {len(test_data)} built-in test images ({info.seconds:.1f} s of training)")
    if args.plots:
        _say(f"wrote {args.plots}")
    return 0


def _train_on_files(args, checked: Checked) -> int:
    """`graphdl train --data PATH`: the datastore of a folder or a file, validation data held out
    by label or read from --validation-data; every file that does not fit the network is reported
    (trainnet's check_datastore) before training starts."""
    import torch
    from torch.utils.data import DataLoader

    from graphdl.compiler import dlnetwork
    from graphdl.train import split_each_label, trainnet

    torch.manual_seed(args.seed)
    data = _datastore(args.data)
    validation = _datastore(args.validation_data) if args.validation_data else None
    if args.validation_split:
        data, validation = split_each_label(data, 1 - args.validation_split, seed=args.seed)
    options = _training_options(args, validation)
    net = dlnetwork(checked.graph, seed=args.seed)
    epochs = counted(options.max_epochs, "epoch")
    _say(f"training `{checked.graph.name}` on {len(data)} observations of {args.data}, {epochs} of {options.solver}")
    net, info = trainnet(data, net, None, options, resume=args.resume)
    if validation is None or getattr(validation, "classes", None) is None:
        _say(f"trained in {info.seconds:.1f} s")
        return 0
    correct = 0
    with torch.no_grad():
        for X, T in DataLoader(validation, batch_size=args.mini_batch_size, num_workers=args.num_workers):
            correct += (net.predict(X.to(net.device)).argmax(1).cpu() == T).sum().item()
    _say(f"validation accuracy: {100 * correct / len(validation):.2f}% on {len(validation)} held-out observations ({info.seconds:.1f} s of training)")
    if args.plots:
        _say(f"wrote {args.plots}")
    return 0


def _datastore(path: str):
    """A folder as an image datastore (labels from the folder names), a file as an array datastore."""
    from graphdl.train import array_datastore, image_datastore

    return image_datastore(path) if Path(path).is_dir() else array_datastore(path)


def _training_options(args, validation=None):
    from graphdl.train import training_options

    return training_options(
        args.solver,
        validation_data=validation,
        validation_frequency=args.validation_frequency,
        validation_patience=args.validation_patience,
        output_network=args.output_network,
        learn_rate_schedule=args.learn_rate_schedule,
        learn_rate_drop_factor=args.learn_rate_drop_factor,
        learn_rate_drop_period=args.learn_rate_drop_period,
        metrics=args.metrics,
        log_csv=args.log_csv,
        num_workers=args.num_workers,
        initial_learn_rate=args.initial_learn_rate,
        gradient_threshold=args.gradient_threshold,
        max_epochs=args.max_epochs,
        mini_batch_size=args.mini_batch_size,
        momentum=args.momentum,
        l2_regularization=args.l2_regularization,
        shuffle=args.shuffle,
        plots="training-progress" if args.plots else "none",
        plots_path=args.plots or "training-progress.png",
        checkpoint_path=args.checkpoint_path,
        checkpoint_frequency=args.checkpoint_frequency,
        checkpoint_frequency_unit=args.checkpoint_frequency_unit,
        execution_environment=args.execution_environment,
        precision=args.precision,
        channels_last=args.channels_last,
        sync_batch_norm=args.sync_batch_norm,
        fully_shard=args.fully_shard,
        workers=args.workers,
    )


def _say(line: str) -> None:
    """Print, in the one process of a run or in process 0 of a distributed one (torchrun)."""
    if os.environ.get("RANK", "0") == "0":
        print(line)


def _compile(args) -> int:
    net = _network(args)
    if net is None:
        return 1
    if args.emit == "python":
        from graphdl.interop import to_python

        text = to_python(net)
    else:
        from graphdl.graph import to_dlg

        text = to_dlg(net.graph)
    if args.output:
        with writing(args.output):
            Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _export(args) -> int:
    if not (args.onnx or args.torchscript):
        print("error: say what to write: --onnx FILE, --torchscript FILE, or both", file=sys.stderr)
        return 2
    from graphdl.interop import export_onnx, export_torchscript

    net = _network(args)
    if net is None:
        return 1
    for path, export in ((args.onnx, export_onnx), (args.torchscript, export_torchscript)):
        if path:
            export(net, path)
            print(f"wrote {path}")
    return 0


def _network(args):
    """The compiled network of a command's file: a .dlg file's, with `--weights` loaded, or the
    one a network file holds; None for a .dlg file with errors (said already)."""
    if Path(args.file).suffix.lower() == ".dlg":
        checked = _checked(args)  # its diagnostics printed
        if not checked.ok:
            return None
        from graphdl.compiler import dlnetwork

        net = dlnetwork(checked.graph, seed=0)
        if getattr(args, "weights", None):
            from graphdl.interop import load_weights

            load_weights(net, args.weights)
        return net
    if args.network or args.parameters or getattr(args, "weights", None):
        raise error(
            "E011", f"{args.file} is a network file: its network, parameters and weights are in it", help="--network, --set and --weights go with a .dlg file"
        )
    from graphdl.interop import load_network

    return load_network(args.file)


def _check_digits_network(checked: Checked) -> None:
    from graphdl.catalog import Shape

    graph, analysis = checked.graph, checked.analysis
    if len(graph.input_names) != 1 or len(graph.output_names) != 1:
        raise error(
            "E801", f"`graphdl train` trains a network of one input and one output; `{graph.name}` has {len(graph.input_names)} and {len(graph.output_names)}"
        )
    given = analysis[graph.input_names[0]].output
    if given != Shape.image(28, 28, 1):
        raise error(
            "E801", f"the built-in digits are 28x28x1 images, but the input `{graph.input_names[0]}` takes {given}", help="use `imageInput([28, 28, 1])`"
        )
    output = analysis[graph.output_names[0]]
    if output.outputs != {"out": Shape.features(10)}:
        shown = ", ".join(map(str, output.outputs.values()))
        raise error(
            "E801",
            f"the built-in digits have 10 classes, but the output `{output.layer.name}` gives {shown}",
            help="end the network with `fullyConnected(10)` and `softmax()`",
        )


def _layers(args) -> int:
    from graphdl.catalog import is_factor_param, kinds
    from graphdl.syntax import format_value

    for kind in sorted(kinds(), key=lambda k: (k.category, k.name)):
        print(kind.signature())
        print(f"    {kind.category}: {kind.summary}")
        # The ports of an instance with the default arguments (no kind's ports depend on a
        # required argument).
        defaults = kind.complete({})
        ports_in = ", ".join(kind.inputs(defaults)) or "none"
        print(f"    inputs: {ports_in}; outputs: {', '.join(kind.outputs(defaults))}")
        factors = [f"{p.name}={format_value(p.default)}" for p in kind.params if is_factor_param(p)]
        if factors:
            print(f"    factors: {', '.join(factors)}")
    return 0


def _explain(args) -> int:
    from graphdl.cli._explain import explain, normalize
    from graphdl.diagnostics import CODES, suggest

    color = {"always": True, "never": False}.get(args.color, sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    try:
        text = explain(args.code, color)
    except KeyError:
        print(f"error: no diagnostic code {args.code}; codes: {', '.join(CODES)}", file=sys.stderr)
        hint = suggest(normalize(args.code), CODES)
        if hint:
            print(f"  = help: {hint}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


def _lsp(args) -> int:
    import logging

    from graphdl import __version__
    from graphdl.cli._explain import codes_folder
    from graphdl.editor import server

    # Standard output is the protocol's: the server's own messages go to standard error.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="graphdl lsp: %(levelname)s: %(message)s")
    language_server = server(__version__, codes_folder().resolve())
    if args.tcp:
        language_server.start_tcp(args.host, args.port)
    else:
        language_server.start_io()
    return 0


def _fmt(args) -> int:
    from graphdl.source import Source
    from graphdl.syntax import format_dlg

    unformatted = 0
    for name in args.files:
        try:
            text = sys.stdin.read() if name == "-" else Source.read(name).text  # a regular file, within the size limit
        except OSError as e:
            raise error("E001", f"cannot read {name}: {e.strerror or e}", os_error=e) from e
        except UnicodeDecodeError as e:
            raise error("E001", f"cannot read {name}: {e}") from e
        formatted = format_dlg(text, "<stdin>" if name == "-" else name)
        if name == "-":
            sys.stdout.write(formatted)
        elif formatted != text:
            unformatted += 1
            if args.check:
                print(f"would reformat {name}")
            else:
                Path(name).write_text(formatted, encoding="utf-8")
                print(f"reformatted {name}")
    return 1 if args.check and unformatted else 0


# ---- helpers ---------------------------------------------------------------------------------------


def _checked(args, network_needed: bool = True) -> Checked:
    """The file checked, its diagnostics printed. A file of blocks only checks without errors (a
    library); a command that needs a network gets an error for it."""
    (checked,) = _checked_each(args, network_needed, each=False)
    return checked


def _checked_each(args, network_needed: bool = True, each: bool = True) -> list[Checked]:
    """The file checked, one Checked per network when it declares several and --network names
    none (`each`), else one; every diagnostic printed once (blocks the networks share are checked
    in each)."""
    import dataclasses

    from graphdl._frontend import check

    names = [args.network] if args.network is not None or not each else _networks_declared(args.file) or [None]
    results = []
    for name in names:
        checked = check(args.file, name, dict(args.parameters), search_path=args.search_path, allow_outside=args.allow_outside_imports)
        if network_needed and checked.ok and checked.graph is None:
            refusal = Diagnostic("E002", f"{args.file} defines no network to {args.command}", help="write one, or import this file from one")
            checked = dataclasses.replace(checked, diagnostics=(*checked.diagnostics, refusal))
        results.append(checked)
    diagnostics = list(dict.fromkeys(d for checked in results for d in checked.diagnostics))
    if diagnostics:
        _print_diagnostics(diagnostics, {path: s for checked in results for path, s in checked.sources.items()}, args)
    return results


def _networks_declared(path: str) -> list[str]:
    """The networks a file defines itself, where it defines several (none when it cannot be read:
    the check says why)."""
    from graphdl._frontend import networks

    try:
        names = networks(path)
    except GraphdlError:
        return []
    return list(names) if len(names) > 1 else []


def _print_diagnostics(diagnostics, sources, args) -> None:
    color = {"always": True, "never": False}.get(args.color, sys.stderr.isatty() and "NO_COLOR" not in os.environ)
    sys.stderr.write(render_all(diagnostics, sources, color))


if __name__ == "__main__":
    sys.exit(main())

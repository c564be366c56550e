"""Transfer learning with graphdl, MATLAB's workflow: transfer_learning.dlg is trained on the digits
0-4; its head is replaced by a new fully connected layer for the digits 5-9, the feature layers are
frozen, and the network is fine-tuned on a few labelled digits 5-9, then compared with the same
network trained from scratch on those same few digits.

    MATLAB                                                   graphdl
    net = trainnet(XOld, TOld, net, "crossentropy", opts)    net, info = graphdl.trainnet(X, T, net, "crossentropy", options)
    net = replaceLayer(net, "fc", ...                        new = net.replace_layer("fc",
        fullyConnectedLayer(5, Name="new_fc"))                   graphdl.layer("new_fc", "fullyConnected", 5), seed=0)
    net = setLearnRateFactor(net, "conv", "Weights", 0)      new.freeze("features_1", "features_2")
    net = trainnet(XNew, TNew, net, "crossentropy", opts)    new, info = graphdl.trainnet(X, T, new, "crossentropy", options)

Run it as `python examples/transfer_learning.py` (10 labelled digits of each new class). It prints
the frozen learnables and checks that fine-tuning left them as they were, prints the test accuracy
on the digits 5-9 of the transferred network and of the one trained from scratch, and writes a bar
chart of both, digit by digit, to `--out`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from matplotlib.figure import Figure

import graphdl
from graphdl.datasets import digits

NEW_CLASSES = range(5, 10)  # the digits the base network never sees; it learns the ones below them
FEATURES = ("features_1", "features_2")  # the block instances of transfer_learning.dlg before its head


def accuracy(net, X, T) -> float:
    return (net.predict(X).argmax(1) == T).float().mean().item() * 100


def losses(info) -> str:
    """The loss of the first and last iterations, and the time, of a training run."""
    loss = info.history["loss"][1]
    return f"loss {loss[0]:.4f} -> {loss[-1]:.4f} in {info.iterations} iterations, {info.seconds:.1f} s"


def save_chart(transfer: list[float], scratch: list[float], labels: list[str], path: Path) -> None:
    """Grouped bars: the test accuracy of each new digit (and of all), transfer beside scratch."""
    figure = Figure(figsize=(7, 4))
    axes = figure.add_subplot()
    places = list(range(len(labels)))
    axes.bar([p - 0.2 for p in places], transfer, 0.4, label="transfer (frozen features, new head)", color="tab:blue")
    axes.bar([p + 0.2 for p in places], scratch, 0.4, label="from scratch", color="tab:gray")
    axes.set_xticks(places, labels)
    axes.set_ylim(0, 100)
    axes.set_ylabel("test accuracy (%)")
    axes.set_title("Digits 5-9 learned from a few labelled images of each")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=10, help="labelled training images of each new digit (default: 10)")
    parser.add_argument("--base-epochs", type=int, default=4, help="epochs of training on the digits 0-4 (default: 4)")
    parser.add_argument("--epochs", type=int, default=60, help="epochs on the few new digits, for both networks (default: 60)")
    parser.add_argument("--images", type=int, default=5000, help="training images generated, all digits (default: 5000)")
    parser.add_argument("--test-images", type=int, default=5000, help="test images generated, all digits (default: 5000)")
    parser.add_argument("--out", default=".", help="folder for the PNG chart (default: the current folder)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    torch.manual_seed(0)
    train, test = digits("train", size=args.images), digits("test", size=args.test_images)
    X, labels = torch.as_tensor(train.images), torch.as_tensor(train.labels)
    X_test, labels_test = torch.as_tensor(test.images), torch.as_tensor(test.labels)
    old, old_test = labels < NEW_CLASSES[0], labels_test < NEW_CLASSES[0]
    # The few labelled new digits: the first `per_class` of each; their targets are 0-4 again,
    # indices into the new head's five outputs.
    few = torch.cat([torch.nonzero(labels == digit)[: args.per_class, 0] for digit in NEW_CLASSES])
    X_few, T_few = X[few], labels[few] - NEW_CLASSES[0]
    X_new_test, T_new_test = X_test[~old_test], labels_test[~old_test] - NEW_CLASSES[0]

    # 1. Train on the digits 0-4.
    net = graphdl.dlnetwork(graphdl.load(Path(__file__).with_name("transfer_learning.dlg")), seed=0)
    options = graphdl.training_options("adam", max_epochs=args.base_epochs, mini_batch_size=64, initial_learn_rate=0.002)
    net, info = graphdl.trainnet(X[old], labels[old], net, "crossentropy", options)
    base_accuracy = accuracy(net, X_test[old_test], labels_test[old_test])
    print(f"digits 0-4: test accuracy {base_accuracy:.2f}% ({info.seconds:.1f} s of training on {int(old.sum())} images)")

    # 2. A new head for the new digits, the trained features frozen.
    # The other layers keep their trained weights, as MATLAB's do in an edited network.
    transfer = net.replace_layer("fc", graphdl.layer("new_fc", "fullyConnected", len(NEW_CLASSES)), seed=0)
    transfer.freeze(*FEATURES)
    frozen = {(layer, parameter): value.clone() for layer, parameter, value in transfer.learnables if transfer.learn_rate_factor(layer, parameter) == 0}
    head_before = transfer.learnables["new_fc", "weight"].clone()
    print(f"replaced fc by new_fc ({len(NEW_CLASSES)} outputs, digits 5-9); frozen, learn-rate factor 0:")
    print("  " + ", ".join(f"{layer}/{parameter}" for layer, parameter in frozen))

    # Both networks see the few new digits for the same epochs. Sixty epochs of two iterations
    # would print sixty lines each: one summary line stands for them.
    fine_tuning = graphdl.training_options("adam", max_epochs=args.epochs, mini_batch_size=25, initial_learn_rate=0.002, verbose=False)
    transfer, transfer_info = graphdl.trainnet(X_few, T_few, transfer, "crossentropy", fine_tuning)
    print(f"fine-tuned on {len(few)} labelled digits 5-9 ({args.per_class} of each): {losses(transfer_info)}")
    unchanged = sum(torch.equal(value, transfer.learnables[key]) for key, value in frozen.items())
    head_changed = not torch.equal(head_before, transfer.learnables["new_fc", "weight"])
    print(f"frozen learnables unchanged: {unchanged} of {len(frozen)}; new_fc/weight changed: {head_changed}")

    # 3. The same network, the same few digits, from scratch.
    scratch = graphdl.dlnetwork(transfer.graph, seed=0)
    scratch, scratch_info = graphdl.trainnet(X_few, T_few, scratch, "crossentropy", fine_tuning)
    print(f"from scratch on the same digits: {losses(scratch_info)}")

    transfer_accuracy = accuracy(transfer, X_new_test, T_new_test)
    scratch_accuracy = accuracy(scratch, X_new_test, T_new_test)
    print(f"digits 5-9, {len(X_new_test)} test images: transfer {transfer_accuracy:.2f}%, from scratch {scratch_accuracy:.2f}%")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "transfer_learning.png"
    per_digit = [T_new_test == digit - NEW_CLASSES[0] for digit in NEW_CLASSES]
    save_chart(
        [accuracy(transfer, X_new_test[m], T_new_test[m]) for m in per_digit] + [transfer_accuracy],
        [accuracy(scratch, X_new_test[m], T_new_test[m]) for m in per_digit] + [scratch_accuracy],
        [str(digit) for digit in NEW_CLASSES] + ["all"],
        path,
    )
    print(f"wrote {path} ({time.perf_counter() - started:.0f} s in all)")
    return {
        "base_accuracy": base_accuracy,
        "transfer_accuracy": transfer_accuracy,
        "scratch_accuracy": scratch_accuracy,
        "frozen": len(frozen),
        "frozen_unchanged": unchanged,
        "head_changed": head_changed,
        "transfer_loss": transfer_info.history["loss"][1],
        "scratch_loss": scratch_info.history["loss"][1],
    }


if __name__ == "__main__":
    main()

"""A Siamese network for the built-in digits, with graphdl: siamese.dlg runs one encoder on two
images (the twins share their weights) and a head on |f1 - f2| gives the probability that they show
the same digit; trainnet trains it on pairs, half the same digit and half two different ones, with
the "binary-crossentropy" loss, as MATLAB's "Train a Siamese Network to Compare Images" does.

    MATLAB                                                    graphdl
    net = dlnetwork(lgraph)                                   net = graphdl.dlnetwork(graphdl.load("siamese.dlg"))
    ds = combine(arrayDatastore(X1, IterationDimension=4), arrayDatastore(X2, ...), arrayDatastore(T))
    net = trainnet(ds, net, "binary-crossentropy", opts)      net, info = graphdl.trainnet((X1, X2), T, net, "binary-crossentropy", options)
    Y = predict(net, X1Test, X2Test)                          Y = net.predict(X1Test, X2Test)

Run it as `python examples/siamese.py` (4 epochs of adam on 20,000 pairs of 10,000 training digits).
It prints the pair accuracy on 2,000 pairs of test digits, never seen in training, half the same
digit and half different, and writes siamese.png to `--out`: test pairs with the network's verdict.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

import graphdl
from graphdl.datasets import digits


def make_pairs(labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` pairs of indices into `labels`, alternately of the same class and of different
    classes, each class of the second image drawn evenly from the nine others. Returns the left
    indices, the right indices and whether each pair is the same class."""
    rng = np.random.default_rng(seed)
    by_class = np.argsort(labels, kind="stable")  # the indices of class 0, then of class 1, ...
    sizes = np.bincount(labels, minlength=10)
    starts = np.cumsum(sizes) - sizes
    same = np.arange(count) % 2 == 0
    left = rng.integers(len(labels), size=count)
    right_class = np.where(same, labels[left], (labels[left] + rng.integers(1, 10, size=count)) % 10)
    position = rng.integers(sizes[right_class])
    right = by_class[starts[right_class] + position]
    # A digit paired with itself would be too easy a "same": take the next one of its class.
    itself = right == left
    right[itself] = by_class[starts[right_class[itself]] + (position[itself] + 1) % sizes[right_class[itself]]]
    return left, right, same


def save_verdicts(left: torch.Tensor, right: torch.Tensor, probability: torch.Tensor, same: np.ndarray, path: Path, scale: int = 3) -> None:
    """Each pair a column, one image over the other, and under them the verdict and the network's
    probability of "same", green where the verdict is right and red where it is wrong."""
    side, gap, caption = 28 * scale, 6, 18
    font = ImageFont.load_default(size=13)
    picture = Image.new("RGB", (len(left) * (side + gap) + gap, 2 * side + 3 * gap + caption), "white")
    draw = ImageDraw.Draw(picture)
    for column in range(len(left)):
        x = gap + column * (side + gap)
        for row, images in enumerate((left, right)):
            digit = Image.fromarray((images[column, 0].numpy() * 255).round().astype(np.uint8))
            picture.paste(digit.resize((side, side), Image.NEAREST), (x, gap + row * (side + gap)))
        says_same = probability[column].item() > 0.5
        colour = (0, 130, 0) if says_same == bool(same[column]) else (210, 0, 0)
        draw.text((x + 2, 2 * side + 2 * gap), f"{'same' if says_same else 'diff'} {probability[column].item():.2f}", fill=colour, font=font)
    picture.save(path)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="number of epochs (default: 4)")
    parser.add_argument("--images", type=int, default=10000, help="training digits the pairs are made of (default: 10000)")
    parser.add_argument("--pairs", type=int, default=20000, help="training pairs (default: 20000)")
    parser.add_argument("--test-images", type=int, default=5000, help="test digits the test pairs are made of (default: 5000)")
    parser.add_argument("--test-pairs", type=int, default=2000, help="test pairs, half same, half different (default: 2000)")
    parser.add_argument("--mini-batch-size", type=int, default=64, help="pairs per iteration (default: 64)")
    parser.add_argument("--out", default=".", help="folder for the PNG (default: the current folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train, test = digits("train", size=args.images), digits("test", size=args.test_images)
    X, X_test = torch.as_tensor(train.images), torch.as_tensor(test.images)
    left, right, same = make_pairs(train.labels, args.pairs, seed=1)
    left_test, right_test, same_test = make_pairs(test.labels, args.test_pairs, seed=2)
    T = torch.as_tensor(same, dtype=torch.float32)[:, None]  # 1 for the same digit, 0 for two different ones

    net = graphdl.dlnetwork(graphdl.load(Path(__file__).parent / "siamese.dlg"), seed=0)
    options = graphdl.training_options(
        "adam",
        max_epochs=args.epochs,
        mini_batch_size=args.mini_batch_size,
        initial_learn_rate=0.003,
        learn_rate_schedule="piecewise",
        learn_rate_drop_period=3,
        learn_rate_drop_factor=0.2,
        verbose_frequency=100,
    )
    # Two inputs: a tuple of arrays in input_names order (left_image, right_image).
    net, info = graphdl.trainnet((X[left], X[right]), T, net, "binary-crossentropy", options)

    with torch.no_grad():
        probability = net.predict(X_test[left_test], X_test[right_test])[:, 0]
    correct = (probability > 0.5).numpy() == same_test
    accuracy = float(correct.mean() * 100)
    print(
        f"test pair accuracy: {accuracy:.2f}% on {args.test_pairs} unseen pairs "
        f"(same digit {correct[same_test].mean() * 100:.2f}%, different {correct[~same_test].mean() * 100:.2f}%; "
        f"{info.seconds:.1f} s of training)"
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "siamese.png"
    # The first twelve test pairs, as they come, then the first four the network gets wrong.
    shown = np.concatenate([np.arange(min(12, args.test_pairs)), np.flatnonzero(~correct[12:])[:4] + 12])
    save_verdicts(X_test[left_test[shown]], X_test[right_test[shown]], probability[shown], same_test[shown], path)
    print(f"wrote {path}")
    return accuracy


if __name__ == "__main__":
    main()

"""A tiny vision transformer for the built-in digits, with graphdl: attention.dlg cuts each 28x28
image into 16 patches of 7x7, puts a class token before them, and two encoder blocks of
self-attention name the digit from the class token; trainnet trains it. Then it draws, for a few
test digits, where the class token looks: its attention over the patches, as heat maps.

    MATLAB                                                        graphdl
    layers = [imageInputLayer([28 28 1])                          net = graphdl.dlnetwork(graphdl.load("attention.dlg"))
      patchEmbeddingLayer(7, 64) embeddingConcatenationLayer
      ... selfAttentionLayer(4, 64) ... indexing1dLayer
      fullyConnectedLayer(10) softmaxLayer]
    net = trainnet(XTrain, TTrain, layers, "crossentropy", opts)  net, info = graphdl.trainnet(X, labels, net, "crossentropy", options)
    scores = minibatchpredict(net, XTest)                         probabilities = net.predict(X)

MATLAB's selfAttentionLayer gives its attention weights as a second output with
HasScoresOutput=true; graphdl's selfAttention has no such output. So the weights are recomputed
here from each compiled selfAttention module's own query and key projections and the input a
forward hook catches, as the layer computes them (softmax(q k' / sqrt(d)) per head).

Run it as `python examples/attention.py` (10 epochs of adam on 10,000 digits). It prints the test
accuracy and writes attention.png to `--out`: test digits over their attention maps, one row per
encoder block.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import graphdl
from graphdl.datasets import digits


def attention_weights(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The attention weights a compiled selfAttention module computes on its input x (batch,
    channels, time): softmax(q k' / sqrt(d)) per head, (batch, heads, time, time), each row a
    distribution over the steps attended to. No causal mask: attention.dlg uses none."""
    steps = x.transpose(1, 2)
    query, key = (projection(steps).unflatten(-1, (module.heads, -1)).transpose(1, 2) for projection in (module.query, module.key))
    return torch.softmax(query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1]), dim=-1)


def class_token_attention(net, images: torch.Tensor) -> torch.Tensor:
    """For each image and encoder block, the class token's attention over every step (itself, then
    the patches in patchEmbedding's order), averaged over the heads: (images, blocks, 1 + patches)."""
    modules = [module for name, module in net.layer_modules.items() if name.endswith(".attention")]
    inputs = []
    hooks = [module.register_forward_hook(lambda module, args, output: inputs.append(args[0])) for module in modules]
    try:
        net.predict(images)
    finally:
        for hook in hooks:
            hook.remove()
    with torch.no_grad():  # row 0 of the weights: the class token's query
        return torch.stack([attention_weights(module, x)[:, :, 0].mean(1) for module, x in zip(modules, inputs)], dim=1)


STROKE = np.array([0.3, 0.6, 1.0], dtype=np.float32)  # light blue


def heat(values: np.ndarray) -> np.ndarray:
    """A black-red-yellow color scale for values in [0, 1]: (..., 3)."""
    return np.clip(np.stack([2 * values, 2 * values - 1, 0 * values], axis=-1), 0, 1)


def save_attention_grid(images: torch.Tensor, maps: torch.Tensor, path: Path, scale: int = 3, gap: int = 2) -> None:
    """Top row the digits; below them one row per encoder block: the patches colored by the class
    token's attention (each map scaled to its largest weight), the digit's strokes drawn over in
    blue, a color the scale does not use."""
    count, blocks, side = images.shape[0], maps.shape[1], math.isqrt(maps.shape[2])
    size = images.shape[-1]
    grid = np.ones(((blocks + 1) * (size + gap) + gap, count * (size + gap) + gap, 3), dtype=np.float32)
    for c in range(count):
        digit = images[c, 0].clamp(0, 1).numpy()
        left = gap + c * (size + gap)
        grid[gap : gap + size, left : left + size] = digit[..., None]
        for b in range(blocks):
            weights = maps[c, b].reshape(side, side).numpy()  # patches row by row, as patchEmbedding takes them
            patch = np.kron(weights / weights.max(), np.ones((size // side, size // side), dtype=np.float32))
            top = gap + (b + 1) * (size + gap)
            stroke = digit[..., None]
            grid[top : top + size, left : left + size] = (1 - stroke) * heat(patch) + stroke * STROKE
    picture = Image.fromarray((grid * 255).round().astype(np.uint8), mode="RGB")
    picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST).save(path)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="number of epochs (default: 10)")
    parser.add_argument("--images", type=int, default=10000, help="training images (default: 10000)")
    parser.add_argument("--test-images", type=int, default=5000, help="test images (default: 5000)")
    parser.add_argument("--mini-batch-size", type=int, default=64, help="images per iteration (default: 64)")
    parser.add_argument("--patch", type=int, default=7, help="patch size, a divisor of 28 (default: 7, 16 patches)")
    parser.add_argument("--width", type=int, default=64, help="channels of each token (default: 64)")
    parser.add_argument("--depth", type=int, default=2, help="encoder blocks (default: 2)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (default: 4)")
    parser.add_argument("--shown", type=int, default=12, help="test digits drawn with their attention maps (default: 12)")
    parser.add_argument("--out", default=".", help="folder for attention.png (default: the current folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train, test = digits("train", size=args.images), digits("test", size=args.test_images)
    X, labels = torch.as_tensor(train.images), torch.as_tensor(train.labels)
    X_test, labels_test = torch.as_tensor(test.images), torch.as_tensor(test.labels)

    parameters = {"patch": args.patch, "width": args.width, "depth": args.depth, "heads": args.heads, "mlp": 2 * args.width}
    net = graphdl.dlnetwork(graphdl.load(Path(__file__).parent / "attention.dlg", parameters=parameters), seed=0)
    options = graphdl.training_options(
        "adam",
        max_epochs=args.epochs,
        mini_batch_size=args.mini_batch_size,
        initial_learn_rate=0.002,
        learn_rate_schedule="cosine",  # falls once, along half a cosine, over the whole run
        verbose_frequency=100,
    )
    net, info = graphdl.trainnet(X, labels, net, "crossentropy", options)

    probabilities = net.predict(X_test)
    accuracy = (probabilities.argmax(1) == labels_test).float().mean().item() * 100
    print(f"test accuracy: {accuracy:.2f}% ({info.seconds:.1f} s of training)")

    # The maps are drawn over the patches: the class token's attention to itself is left out, and
    # the rest scaled back to a distribution; what it was is printed, over the whole test set.
    attention = class_token_attention(net, X_test)
    to_itself = ", ".join(f"{100 * share:.1f}%" for share in attention[:, :, 0].mean(0).tolist())
    print(f"class token's attention to itself, block by block: {to_itself} (the rest is on the patches)")
    shown = X_test[: args.shown]
    maps = attention[: args.shown, :, 1:]
    maps = maps / maps.sum(-1, keepdim=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "attention.png"
    save_attention_grid(shown, maps, path)
    print(f"wrote {path}")
    return {"accuracy": accuracy, "loss": info.history["loss"][1], "seconds": info.seconds, "attention": maps}


if __name__ == "__main__":
    main()

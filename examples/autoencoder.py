"""A convolutional autoencoder for the built-in digits, with graphdl: autoencoder.dlg squeezes each
28x28 image through a 7x7x8 code and draws it back; trainnet trains it with the images as both
inputs and targets and the "mse" loss.

    MATLAB                                                  graphdl
    net = dlnetwork(lgraph)                                 net = graphdl.dlnetwork(graphdl.load("autoencoder.dlg"))
    net = trainnet(XTrain, XTrain, net, "mse", opts)        net, info = graphdl.trainnet(X, X, net, "mse", options)
    YTest = predict(net, XTest)                             Y = net.predict(X)

Run it as `python examples/autoencoder.py` (4 epochs of adam), or `--denoise` to train on noisy
inputs against clean targets (a denoising autoencoder). It prints the test per-pixel mean squared
error and writes a PNG grid to `--out`: originals over reconstructions (with --denoise: noisy,
denoised, clean).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import graphdl
from graphdl.datasets import digits


def add_noise(images: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """Gaussian noise of standard deviation sigma, clipped back to the pixels' range [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return (images + sigma * torch.randn(images.shape, generator=generator)).clamp(0, 1)


def save_grid(rows: list[torch.Tensor], path: Path, scale: int = 3, gap: int = 2) -> None:
    """One row of images per tensor (N, 1, 28, 28), gray on a white frame, enlarged `scale` times."""
    count, height, width = rows[0].shape[0], rows[0].shape[2], rows[0].shape[3]
    grid = np.ones((len(rows) * (height + gap) + gap, count * (width + gap) + gap), dtype=np.float32)
    for r, images in enumerate(rows):
        for c in range(count):
            top, left = gap + r * (height + gap), gap + c * (width + gap)
            grid[top : top + height, left : left + width] = images[c, 0].clamp(0, 1).numpy()
    picture = Image.fromarray((grid * 255).round().astype(np.uint8), mode="L")
    picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST).save(path)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="number of epochs (default: 4)")
    parser.add_argument("--images", type=int, default=5000, help="training images (default: 5000)")
    parser.add_argument("--test-images", type=int, default=5000, help="test images (default: 5000)")
    parser.add_argument("--mini-batch-size", type=int, default=64, help="images per iteration (default: 64)")
    parser.add_argument("--denoise", action="store_true", help="train on noisy inputs against clean targets")
    parser.add_argument("--noise", type=float, default=0.3, help="standard deviation of the noise with --denoise (default: 0.3)")
    parser.add_argument("--out", default=".", help="folder for the PNG grid (default: the current folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train, test = digits("train", size=args.images), digits("test", size=args.test_images)
    X, X_test = torch.as_tensor(train.images), torch.as_tensor(test.images)
    inputs = add_noise(X, args.noise, seed=1) if args.denoise else X
    inputs_test = add_noise(X_test, args.noise, seed=2) if args.denoise else X_test

    net = graphdl.dlnetwork(graphdl.load(Path(__file__).parent / "autoencoder.dlg"), seed=0)
    options = graphdl.training_options(
        "adam",
        max_epochs=args.epochs,
        mini_batch_size=args.mini_batch_size,
        initial_learn_rate=0.002,
        learn_rate_schedule="piecewise",
        learn_rate_drop_period=3,
        learn_rate_drop_factor=0.3,
    )
    net, info = graphdl.trainnet(inputs, X, net, "mse", options)  # the targets are the clean images

    with torch.no_grad():
        Y = net.predict(inputs_test)
    error = (Y - X_test).pow(2).mean().item()  # per pixel, over the whole test set
    print(f"test per-pixel MSE: {error:.4f} ({info.seconds:.1f} s of training)")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("autoencoder_denoise.png" if args.denoise else "autoencoder.png")
    shown = slice(0, 12)
    rows = [inputs_test[shown], Y[shown], X_test[shown]] if args.denoise else [X_test[shown], Y[shown]]
    save_grid(rows, path)
    print(f"wrote {path}")
    return error


if __name__ == "__main__":
    main()

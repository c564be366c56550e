"""A conditional generative adversarial network for the built-in digits, with graphdl: gan.dlg holds a
generator (a latent vector and a one-hot class label -> projectAndReshape -> transposed
convolutions -> a 28x28 image of that digit) and a discriminator (an image and a one-hot label ->
strided convolutions -> the probability that the image is a real digit of that class), trained
together in one custom loop, as MATLAB's "Generate Synthetic Images Using Conditional GAN"
example, and a third network, a digits classifier (the judge) that measures the samples.

    MATLAB                                                  graphdl
    netG = dlnetwork(layersGenerator)                       generator = graphdl.dlnetwork(graphdl.load("gan.dlg", network="generator"))
    [...] = dlfeval(@modelLoss, netG, netD, X, T, Z, ...)   [...] = graphdl.dlfeval(model_loss, generator, discriminator, X, T, Z, real_label)
    dlgradient(lossG, netG.Learnables, RetainData=true)     graphdl.dlgradient(loss_g, generator.learnables, retain_graph=True)
    netG = adamupdate(netG, gradientsG, avgG, avgSqG, ...)  generator, avg_g, avg_sq_g = graphdl.adamupdate(generator, gradients_g, ...
    XGeneratedNew = predict(netG, ZValidation, TValidation) samples = generator.predict(Z_fixed, T_fixed)

Run it as `python examples/gan.py`. It writes a grid of samples from the same fixed latent
vectors and labels (three rows of 0-9) after every epoch (gan_epoch_NN.png) and at the end (gan.png) to `--out`. Then it measures
the samples: the judge (gan.dlg's third network, trained here by trainnet on the same real digits)
labels 1,000 generated digits, 100 asked for of each class, and the script prints how many it
labels with a confidence (softmax probability) above 0.9, how many of each class, and how many of
the confident ones carry the class they were generated for; and, for the ceiling, the same share
of real test digits.
"""

from __future__ import annotations

import argparse
import runpy
import time
from pathlib import Path

import torch

import graphdl
from graphdl.datasets import digits

HERE = Path(__file__).parent
save_grid = runpy.run_path(str(HERE / "autoencoder.py"))["save_grid"]  # the sibling example's PNG grid


def model_loss(generator, discriminator, X, T, Z, real_label):
    """MATLAB's modelLoss: one forward pass of each network, both losses, both gradients.

    X holds real images and T their one-hot labels; the generated images are drawn for the same
    labels. The discriminator judges each image together with its label; it is rewarded for telling
    the real pairs from the generated ones, the generator for fooling it, which it can only do with
    an image that looks like a real digit of the class asked for. The real images' target is `real_label` (0.9), not 1:
    one-sided label smoothing, which keeps the discriminator from growing overconfident and
    starving the generator of gradient (MATLAB flips a fraction of the real labels instead)."""
    Y_real = discriminator.forward(X, T)
    X_generated = generator.forward(Z, T)
    Y_generated = discriminator.forward(X_generated, T)

    loss_d = graphdl.binary_crossentropy(Y_real, torch.full_like(Y_real, real_label)) + graphdl.binary_crossentropy(
        Y_generated, torch.zeros_like(Y_generated)
    )
    loss_g = graphdl.binary_crossentropy(Y_generated, torch.ones_like(Y_generated))

    # Both losses come from the same forward pass through the discriminator, so the first
    # backward pass must keep the graph for the second (MATLAB's RetainData=true).
    gradients_g = graphdl.dlgradient(loss_g, generator.learnables, retain_graph=True)
    gradients_d = graphdl.dlgradient(loss_d, discriminator.learnables)
    return gradients_g, gradients_d, loss_g.detach(), loss_d.detach()


def one_hot(labels) -> torch.Tensor:
    """Class numbers 0-9 -> one-hot rows, the networks' label input."""
    return torch.nn.functional.one_hot(torch.as_tensor(labels).long(), 10).float()


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """The generator's [-1, 1] (tanh) back to the digits' [0, 1]."""
    return (images + 1) / 2


def train_judge(images, labels, epochs: int):
    """The judge of the samples: gan.dlg's third network, a digits classifier, by trainnet."""
    judge = graphdl.dlnetwork(graphdl.load(HERE / "gan.dlg", network="judge"), seed=0)
    options = graphdl.training_options("adam", max_epochs=epochs, mini_batch_size=128, initial_learn_rate=0.002, verbose=False)
    judge, _ = graphdl.trainnet(images, labels, judge, "crossentropy", options)
    return judge


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs of the GAN (default: 4)")
    parser.add_argument("--images", type=int, default=20000, help="real training images (default: 20000)")
    parser.add_argument("--mini-batch-size", type=int, default=64, help="real and generated images per iteration (default: 64)")
    parser.add_argument("--learn-rate", type=float, default=1e-3, help="adam's learn rate, both networks (default: 1e-3)")
    parser.add_argument("--decay-epochs", type=int, default=2, help="epochs at the end over which the learn rate falls linearly to 0 (default: 2)")
    parser.add_argument("--gradient-decay", type=float, default=0.5, help="adam's gradient decay (default: 0.5, as MATLAB)")
    parser.add_argument("--real-label", type=float, default=0.9, help="the real images' target, one-sided label smoothing (default: 0.9)")
    parser.add_argument("--samples", type=int, default=1000, help="generated digits the judge labels (default: 1000)")
    parser.add_argument("--judge-epochs", type=int, default=4, help="epochs of the judging classifier (default: 4)")
    parser.add_argument("--test-images", type=int, default=2000, help="real test digits the judge labels, for its ceiling (default: 2000)")
    parser.add_argument("--out", default=".", help="folder for the PNG grids (default: the current folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    start = time.perf_counter()
    train = digits("train", size=args.images)
    X_train = torch.as_tensor(train.images) * 2 - 1  # [0, 1] -> [-1, 1], the range of the generator's tanh
    generator = graphdl.dlnetwork(graphdl.load(HERE / "gan.dlg", network="generator"), seed=0)
    discriminator = graphdl.dlnetwork(graphdl.load(HERE / "gan.dlg", network="discriminator"), seed=0)
    latent = generator.analysis["noise"].output.torch_size(1)[1]
    # The same digits-to-be after every epoch: 30 latent vectors, three rows asking for 0-9.
    Z_fixed = torch.randn(30, latent, generator=torch.Generator().manual_seed(1))
    T_fixed = one_hot(torch.arange(30) % 10)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    queue = graphdl.MiniBatchQueue(X_train, one_hot(train.labels), mini_batch_size=args.mini_batch_size, partial="discard")
    avg_g = avg_sq_g = avg_d = avg_sq_d = None
    iteration = 0
    per_epoch = len(X_train) // args.mini_batch_size
    total, decay_start = per_epoch * args.epochs, per_epoch * (args.epochs - args.decay_epochs)
    for epoch in range(1, args.epochs + 1):
        queue.shuffle()
        for X, T in queue:
            iteration += 1
            # The learn rate: constant, then falling linearly towards 0 over the last epochs, which
            # lets both networks settle instead of chasing each other to the last iteration.
            learn_rate = args.learn_rate * min(1.0, (total - iteration + 1) / (total - decay_start + 1))
            Z = torch.randn(len(X), latent)
            gradients_g, gradients_d, loss_g, loss_d = graphdl.dlfeval(model_loss, generator, discriminator, X, T, Z, args.real_label)
            discriminator, avg_d, avg_sq_d = graphdl.adamupdate(
                discriminator, gradients_d, avg_d, avg_sq_d, iteration, learn_rate, args.gradient_decay
            )
            generator, avg_g, avg_sq_g = graphdl.adamupdate(generator, gradients_g, avg_g, avg_sq_g, iteration, learn_rate, args.gradient_decay)
        print(f"epoch {epoch}/{args.epochs}  iteration {iteration}  generator loss {loss_g:.4f}  discriminator loss {loss_d:.4f}  "
              f"{time.perf_counter() - start:.1f} s")
        grid = to_pixels(generator.predict(Z_fixed, T_fixed))
        save_grid([grid[r * 10 : (r + 1) * 10] for r in range(3)], out / f"gan_epoch_{epoch:02d}.png")
    gan_seconds = time.perf_counter() - start
    grid = to_pixels(generator.predict(Z_fixed, T_fixed))
    save_grid([grid[r * 10 : (r + 1) * 10] for r in range(3)], out / "gan.png")

    judge = train_judge(train.images, train.labels, args.judge_epochs)
    test = digits("test", size=args.test_images)
    confidence, label = judge.predict(test.images).max(1)
    accuracy = (label == torch.as_tensor(test.labels)).float().mean().item() * 100
    ceiling = (confidence > 0.9).float().mean().item() * 100
    print(f"the judge on {args.test_images} real test digits: {accuracy:.1f}% right, {ceiling:.1f}% with confidence > 0.9")
    wanted = torch.arange(args.samples) % 10  # the same number of each class
    samples = to_pixels(generator.predict(torch.randn(args.samples, latent, generator=torch.Generator().manual_seed(2)), one_hot(wanted)))
    confidence, label = judge.predict(samples).max(1)
    confident = confidence > 0.9
    per_class = torch.bincount(label[confident], minlength=10).tolist()
    share = confident.float().mean().item() * 100
    as_asked = (label[confident] == wanted[confident]).float().mean().item() * 100 if confident.any() else 0.0
    print(f"confident digits (softmax > 0.9): {share:.1f}% of {args.samples} samples; per class 0-9: {per_class}")
    print(f"of the confident ones, {as_asked:.1f}% are the class they were generated for")
    print(f"{gan_seconds:.1f} s of GAN training, {time.perf_counter() - start:.1f} s in all")
    print(f"wrote {out / 'gan.png'} and gan_epoch_01.png ... gan_epoch_{args.epochs:02d}.png")
    return {"confident": share, "per_class": per_class, "as_asked": as_asked, "ceiling": ceiling, "judge_accuracy": accuracy,
            "generator_loss": float(loss_g), "discriminator_loss": float(loss_d), "generator": generator}


if __name__ == "__main__":
    main()

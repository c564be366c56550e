"""A generative adversarial network for the built-in digits, with graphdl: gan.dlg holds a generator
(a latent vector -> projectAndReshape -> transposed convolutions -> a 28x28 image) and a
discriminator (strided convolutions -> the probability that an image is real), trained together in
one custom loop, as MATLAB's "Train Generative Adversarial Network (GAN)" example.

    MATLAB                                                  graphdl
    netG = dlnetwork(layersGenerator)                       generator = graphdl.dlnetwork(graphdl.load("gan.dlg", network="generator"))
    [...] = dlfeval(@modelLoss, netG, netD, X, Z, flipProb) [...] = graphdl.dlfeval(model_loss, generator, discriminator, X, Z, flip)
    dlgradient(lossG, netG.Learnables, RetainData=true)     graphdl.dlgradient(loss_g, generator.learnables, retain_graph=True)
    netG = adamupdate(netG, gradientsG, avgG, avgSqG, ...)  generator, avg_g, avg_sq_g = graphdl.adamupdate(generator, gradients_g, ...
    XGeneratedNew = predict(netG, ZValidation)              samples = generator.predict(Z_fixed)

Run it as `python examples/gan.py`. It writes a grid of samples from the same fixed latent
vectors after every epoch (gan_epoch_NN.png) and at the end (gan.png) to `--out`. Then it measures
the samples: a digits classifier (examples/mnist.dlg, trained here by trainnet on the built-in
digits) labels 1,000 generated digits, and the script prints how many it labels with a confidence
(softmax probability) above 0.9, and how many of each class.
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


def model_loss(generator, discriminator, X, Z, flip_probability):
    """MATLAB's modelLoss: one forward pass of each network, both losses, both gradients.

    The discriminator judges the real images and the generated ones; it is rewarded for telling
    them apart, the generator for fooling it. A random fraction of the real images' labels is
    flipped (MATLAB's flipProb), which keeps the discriminator from winning too easily."""
    Y_real = discriminator.forward(X)
    X_generated = generator.forward(Z)
    Y_generated = discriminator.forward(X_generated)

    T_real = (torch.rand(Y_real.shape) >= flip_probability).float()  # 1 = real, except the flipped ones
    loss_d = graphdl.binary_crossentropy(Y_real, T_real) + graphdl.binary_crossentropy(Y_generated, torch.zeros_like(Y_generated))
    loss_g = graphdl.binary_crossentropy(Y_generated, torch.ones_like(Y_generated))

    # Both losses come from the same forward pass through the discriminator, so the first
    # backward pass must keep the graph for the second (MATLAB's RetainData=true).
    gradients_g = graphdl.dlgradient(loss_g, generator.learnables, retain_graph=True)
    gradients_d = graphdl.dlgradient(loss_d, discriminator.learnables)
    return gradients_g, gradients_d, loss_g.detach(), loss_d.detach()


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """The generator's [-1, 1] (tanh) back to the digits' [0, 1]."""
    return (images + 1) / 2


def train_classifier(train, epochs: int):
    """The judge of the samples: the seed's digits classifier (examples/mnist.dlg), by trainnet."""
    classifier = graphdl.dlnetwork(graphdl.load(HERE / "mnist.dlg"), seed=0)
    options = graphdl.training_options("adam", max_epochs=epochs, mini_batch_size=128, initial_learn_rate=0.003, verbose=False)
    classifier, _ = graphdl.trainnet(train.images, train.labels, classifier, "crossentropy", options)
    return classifier


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the GAN (default: 10)")
    parser.add_argument("--images", type=int, default=5000, help="real training images (default: 5000)")
    parser.add_argument("--mini-batch-size", type=int, default=64, help="real and generated images per iteration (default: 64)")
    parser.add_argument("--learn-rate", type=float, default=1e-3, help="adam's learn rate, both networks (default: 1e-3; MATLAB's 2e-4 is slower)")
    parser.add_argument("--gradient-decay", type=float, default=0.5, help="adam's gradient decay (default: 0.5, as MATLAB)")
    parser.add_argument("--flip", type=float, default=0.1, help="fraction of real labels flipped (default: 0.1; MATLAB flips 0.35)")
    parser.add_argument("--samples", type=int, default=1000, help="generated digits the classifier labels (default: 1000)")
    parser.add_argument("--classifier-epochs", type=int, default=6, help="epochs of the judging classifier (default: 6)")
    parser.add_argument("--out", default=".", help="folder for the PNG grids (default: the current folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    start = time.perf_counter()
    train = digits("train", size=args.images)
    X_train = torch.as_tensor(train.images) * 2 - 1  # [0, 1] -> [-1, 1], the range of the generator's tanh
    generator = graphdl.dlnetwork(graphdl.load(HERE / "gan.dlg", network="generator"), seed=0)
    discriminator = graphdl.dlnetwork(graphdl.load(HERE / "gan.dlg", network="discriminator"), seed=0)
    latent = generator.analysis["input"].output.torch_size(1)[1]
    Z_fixed = torch.randn(36, latent, generator=torch.Generator().manual_seed(1))  # the same digits-to-be after every epoch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    queue = graphdl.MiniBatchQueue(X_train, mini_batch_size=args.mini_batch_size, partial="discard")
    avg_g = avg_sq_g = avg_d = avg_sq_d = None
    iteration = 0
    for epoch in range(1, args.epochs + 1):
        queue.shuffle()
        for X in queue:
            iteration += 1
            Z = torch.randn(len(X), latent)
            gradients_g, gradients_d, loss_g, loss_d = graphdl.dlfeval(model_loss, generator, discriminator, X, Z, args.flip)
            discriminator, avg_d, avg_sq_d = graphdl.adamupdate(
                discriminator, gradients_d, avg_d, avg_sq_d, iteration, args.learn_rate, args.gradient_decay
            )
            generator, avg_g, avg_sq_g = graphdl.adamupdate(generator, gradients_g, avg_g, avg_sq_g, iteration, args.learn_rate, args.gradient_decay)
        print(f"epoch {epoch}/{args.epochs}  iteration {iteration}  generator loss {loss_g:.4f}  discriminator loss {loss_d:.4f}  "
              f"{time.perf_counter() - start:.1f} s")
        grid = to_pixels(generator.predict(Z_fixed))
        save_grid([grid[r * 12 : (r + 1) * 12] for r in range(3)], out / f"gan_epoch_{epoch:02d}.png")
    gan_seconds = time.perf_counter() - start
    grid = to_pixels(generator.predict(Z_fixed))
    save_grid([grid[r * 12 : (r + 1) * 12] for r in range(3)], out / "gan.png")

    classifier = train_classifier(train, args.classifier_epochs)
    samples = to_pixels(generator.predict(torch.randn(args.samples, latent, generator=torch.Generator().manual_seed(2))))
    confidence, label = classifier.predict(samples).max(1)
    confident = confidence > 0.9
    per_class = torch.bincount(label[confident], minlength=10).tolist()
    share = confident.float().mean().item() * 100
    print(f"confident digits (softmax > 0.9): {share:.1f}% of {args.samples} samples; per class 0-9: {per_class}")
    print(f"{gan_seconds:.1f} s of GAN training, {time.perf_counter() - start:.1f} s in all")
    print(f"wrote {out / 'gan.png'} and gan_epoch_01.png ... gan_epoch_{args.epochs:02d}.png")
    return {"confident": share, "per_class": per_class, "generator_loss": float(loss_g), "discriminator_loss": float(loss_d),
            "generator": generator}


if __name__ == "__main__":
    main()

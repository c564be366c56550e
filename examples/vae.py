"""A variational autoencoder for the built-in digits, with graphdl: vae.dlg holds an encoder (an
image to the mean and log-variance of a Gaussian code) and a decoder (a code to an image), trained
together in one custom loop on the reconstruction error plus the KL divergence from the prior, as
MATLAB's "Train Variational Autoencoder (VAE) to Generate Images".

    MATLAB                                                  graphdl
    netE = dlnetwork(layersE); netD = dlnetwork(layersD)    enc = graphdl.dlnetwork(graphdl.load("vae.dlg", network="encoder"))
    Z = samplingLayer (a custom layer)                      z = mean + exp(log_variance / 2) * torch.randn_like(mean)
    [loss, gradE, gradD] = dlfeval(@modelLoss, ...)         gradE, gradD, ... = graphdl.dlfeval(model_loss, enc, dec, X)
    [gradE, gradD] = dlgradient(loss, netE.Learnables, ...) gradE, gradD = graphdl.dlgradient(loss, enc.learnables, dec.learnables)
    [netE, avgE, avgSqE] = adamupdate(netE, gradE, ...)     enc, avg_e, avg_sq_e = graphdl.adamupdate(enc, grad_e, ...)
    XGenerated = predict(netD, randn(...))                  images = dec.predict(torch.randn(n, latent))

Run it as `python examples/vae.py` (20 epochs of adam). Each epoch prints the mean loss and its
two terms; at the end it prints the test ELBO's terms, the per-pixel MSE of the test
reconstructions, and what fraction of the images decoded from the prior a digits classifier
(examples/mnist.dlg, trained here by trainnet) names with a confidence above 0.9. It writes two PNG
grids to `--out`: samples from the prior, and test digits over their reconstructions.
"""

from __future__ import annotations

import argparse
import runpy
import time
from pathlib import Path

import torch

import graphdl
from graphdl.datasets import digits

EXAMPLES = Path(__file__).resolve().parent
save_grid = runpy.run_path(str(EXAMPLES / "autoencoder.py"))["save_grid"]  # the sibling example's PNG grid


def encode(encoder, X):
    """The mean and log-variance of q(z | X): the encoder's output, halved."""
    return encoder.forward(X).chunk(2, dim=1)


def elbo_terms(decoder, X, mean, log_variance):
    """The negative ELBO's two terms, each summed over an image and averaged over the batch: the
    reconstruction error of X from one z drawn from q(z | X) (the reparameterisation: the noise is
    an input, so the gradient flows through the mean and the variance), and KL(q(z | X) || N(0, I))."""
    z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
    Y = decoder.forward(z)
    # Bernoulli pixels: the binary cross-entropy over the 784 pixels of each image (one channel of
    # 784 per image, as binary_crossentropy sums over the channels).
    reconstruction = graphdl.binary_crossentropy(Y.flatten(1), X.flatten(1))
    kl = -0.5 * (1 + log_variance - mean.pow(2) - log_variance.exp()).sum(1).mean()
    return reconstruction, kl


def model_loss(encoder, decoder, X):
    """MATLAB's modelLoss: forward through both networks, the loss, and the gradients of both
    networks' learnables from one backward pass."""
    mean, log_variance = encode(encoder, X)
    reconstruction, kl = elbo_terms(decoder, X, mean, log_variance)
    loss = reconstruction + kl
    gradients_encoder, gradients_decoder = graphdl.dlgradient(loss, encoder.learnables, decoder.learnables)
    return gradients_encoder, gradients_decoder, loss, reconstruction, kl


def train_classifier(X, labels, epochs: int):
    """The seed network (examples/mnist.dlg) trained on the same digits, to judge the samples."""
    classifier = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    options = graphdl.training_options("adam", max_epochs=epochs, mini_batch_size=64, verbose=False)
    classifier, _ = graphdl.trainnet(X, labels, classifier, "crossentropy", options)
    return classifier


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="number of epochs (default: 20)")
    parser.add_argument("--latent", type=int, default=16, help="size of the latent code (default: 16)")
    parser.add_argument("--learn-rate", type=float, default=0.002, help="adam's learn rate (default: 0.002)")
    parser.add_argument("--images", type=int, default=5000, help="training images (default: 5000)")
    parser.add_argument("--test-images", type=int, default=5000, help="test images (default: 5000)")
    parser.add_argument("--mini-batch-size", type=int, default=128, help="images per iteration (default: 128)")
    parser.add_argument("--classifier-epochs", type=int, default=4, help="epochs of the digits classifier that judges the samples; 0: none (default: 4)")
    parser.add_argument("--out", default=".", help="folder for the PNG grids (default: the current folder)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train, test = digits("train", size=args.images), digits("test", size=args.test_images)
    X, X_test = torch.as_tensor(train.images), torch.as_tensor(test.images)

    path = EXAMPLES / "vae.dlg"
    sizes = {"latent": args.latent}
    encoder = graphdl.dlnetwork(graphdl.load(path, network="encoder", parameters=sizes), seed=0)
    decoder = graphdl.dlnetwork(graphdl.load(path, network="decoder", parameters=sizes), seed=0)

    queue = graphdl.MiniBatchQueue(X, mini_batch_size=args.mini_batch_size, partial="discard")
    monitor = graphdl.TrainingProgressMonitor(["loss", "reconstruction", "KL"])
    averages_encoder = squares_encoder = averages_decoder = squares_decoder = None
    iteration = 0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        queue.shuffle()
        monitor.mark_epoch(iteration + 1)
        for X_batch in queue:
            iteration += 1
            gradients_encoder, gradients_decoder, loss, reconstruction, kl = graphdl.dlfeval(model_loss, encoder, decoder, X_batch)
            encoder, averages_encoder, squares_encoder = graphdl.adamupdate(
                encoder, gradients_encoder, averages_encoder, squares_encoder, iteration, args.learn_rate
            )
            decoder, averages_decoder, squares_decoder = graphdl.adamupdate(
                decoder, gradients_decoder, averages_decoder, squares_decoder, iteration, args.learn_rate
            )
            monitor.record(iteration, loss=loss, reconstruction=reconstruction, KL=kl)
            monitor.progress = 100 * epoch / args.epochs
        # The epoch's means: the last mini-batch alone is noisy.
        means = {name: sum(monitor.history(name)[1][-len(queue) :]) / len(queue) for name in monitor.metrics}
        monitor.print(
            f"epoch {epoch}/{args.epochs}  loss {means['loss']:.2f}  reconstruction {means['reconstruction']:.2f}  "
            f"KL {means['KL']:.2f}  {time.perf_counter() - start:.1f} s"
        )
    monitor.close()
    seconds = time.perf_counter() - start

    with torch.no_grad():
        encoder.eval()
        decoder.eval()
        mean, log_variance = encode(encoder, X_test)
        reconstruction, kl = (term.item() for term in elbo_terms(decoder, X_test, mean, log_variance))
        Y = decoder.forward(mean)  # the reconstruction from the code's mean, without the noise
        error = (Y - X_test).pow(2).mean().item()
        samples = decoder.forward(torch.randn(96, args.latent))  # from the prior N(0, I)
    print(f"test reconstruction {reconstruction:.2f} + KL {kl:.2f} = -ELBO {reconstruction + kl:.2f} (nats per image)")
    print(f"test per-pixel MSE of the reconstructions: {error:.4f} ({seconds:.1f} s of training)")
    results = {"reconstruction": reconstruction, "kl": kl, "mse": error, "losses": monitor.history("loss")[1]}

    if args.classifier_epochs > 0:
        classifier = train_classifier(X, torch.as_tensor(train.labels), args.classifier_epochs)
        confident_test = (classifier.predict(X_test).max(1).values > 0.9).float().mean().item()
        confident = (classifier.predict(samples).max(1).values > 0.9).float().mean().item()
        print(f"prior samples a digits classifier names with confidence > 0.9: {confident:.0%} (test digits: {confident_test:.0%})")
        results |= {"confident_samples": confident, "confident_test": confident_test}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_grid(list(samples.split(12)), out / "vae_samples.png")
    shown = slice(0, 12)
    save_grid([X_test[shown], Y[shown]], out / "vae_reconstructions.png")
    print(f"wrote {out / 'vae_samples.png'} and {out / 'vae_reconstructions.png'}")
    return results


if __name__ == "__main__":
    main()

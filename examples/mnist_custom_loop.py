"""The seed's second half: a dlnetwork trained in a custom training loop, written with graphdl.

    MATLAB                                              graphdl
    lgraph = layerGraph(layers)                         lgraph = graphdl.load("mnist_dlnetwork.dlg")
    dlnet = dlnetwork(lgraph)                           net = graphdl.dlnetwork(lgraph)
    [grad, loss] = dlfeval(@modelGradients, ...)        gradients, loss = graphdl.dlfeval(model_gradients, ...)
    [dlnet.Learnables, vel] = sgdmupdate(...)           net, velocity = graphdl.sgdmupdate(...)
    lineLossTrain = animatedline                        monitor = graphdl.TrainingProgressMonitor(["loss"])

Run it as `python examples/mnist_custom_loop.py` (30 epochs, as the seed) or with `--epochs 2`.
It prints the test accuracy and writes the loss curve to a PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import graphdl
from graphdl.datasets import digits


def model_gradients(net, X, T):
    """The seed's modelGradients: forward in training behaviour, cross-entropy, gradients."""
    Y = net.forward(X)
    loss = graphdl.crossentropy(Y, T)
    gradients = graphdl.dlgradient(loss, net.learnables)
    return gradients, loss


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="number of epochs (default: 30, as the seed)")
    parser.add_argument("--plot", default="mnist_custom_loop_loss.png", help="where to write the loss curve")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # executionEnvironment "auto"
    train, test = digits("train"), digits("test")

    lgraph = graphdl.load(Path(__file__).with_name("mnist_dlnetwork.dlg"))
    net = graphdl.dlnetwork(lgraph, seed=0).to(device)
    net.reset_input_normalization(train.images)  # imageInputLayer(..., 'Mean', mean(XTrain, 4))

    mini_batch_size = 128
    initial_learn_rate = 0.01
    decay = 0.01
    momentum = 0.9
    learn_rate = graphdl.TimeBasedDecay(initial_learn_rate, decay)  # initialLearnRate / (1 + decay * iteration)

    queue = graphdl.MiniBatchQueue(train.images, train.labels, mini_batch_size=mini_batch_size, partial="discard", device=device)
    monitor = graphdl.TrainingProgressMonitor(["loss"], x_label="Total Iterations")
    velocity = None
    iteration = 0
    for epoch in range(1, args.epochs + 1):
        queue.shuffle()
        monitor.mark_epoch(iteration + 1)
        for X, T in queue:
            iteration += 1
            gradients, loss = graphdl.dlfeval(model_gradients, net, X, T)
            net, velocity = graphdl.sgdmupdate(net, gradients, velocity, learn_rate(iteration), momentum)
            monitor.record(iteration, loss=loss)
            monitor.progress = 100 * epoch / args.epochs
            monitor.update_info(epoch=epoch)
        monitor.print(f"epoch {epoch}/{args.epochs}  loss {monitor.last('loss'):.4f}  learn rate {learn_rate(iteration):.4f}")
    monitor.close()
    monitor.save(args.plot, title="Custom training loop: loss")

    with torch.no_grad():
        predictions = net.predict(test.images).argmax(1).cpu()
    accuracy = (predictions == torch.as_tensor(test.labels)).float().mean().item() * 100
    print(f"test accuracy: {accuracy:.2f}%")
    print(f"wrote {args.plot}")
    return accuracy


if __name__ == "__main__":
    main()

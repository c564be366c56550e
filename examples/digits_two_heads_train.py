"""MATLAB's "Train Network with Multiple Outputs", with graphdl: one network (digits_two_heads.dlg)
that tells a digit's class and its rotation angle, trained by trainnet on both at once.

    MATLAB                                                  graphdl
    net = dlnetwork(lgraph)                                 net = graphdl.dlnetwork(graphdl.load("digits_two_heads.dlg"))
    lossFcn = @(Y1,Y2,T1,T2) crossentropy(Y1,T1) ...        def loss(Y1, Y2, T1, T2): ...
    net = trainnet(XTrain, [T1 T2], net, lossFcn, opts)     net, info = graphdl.trainnet(X, (labels, angles), net, loss, options)
    [Y1, Y2] = predict(net, XTest)                          probabilities, angles = net.predict(X)

Run it as `python examples/digits_two_heads_train.py` (8 epochs of adam) or with `--epochs 2`.
It prints the test accuracy of the class and the root-mean-square error of the angle.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import graphdl
from graphdl.datasets import digits


def loss(Y1, Y2, T1, T2):
    """MATLAB's: cross-entropy of the class, plus a tenth of the half mean squared error of the
    angle (in degrees, so that the two are of a size)."""
    return graphdl.crossentropy(Y1, T1) + 0.1 * graphdl.mse(Y2, T2)


def main(argv=None) -> tuple[float, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="number of epochs (default: 8)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train, test = digits("train"), digits("test")
    net = graphdl.dlnetwork(graphdl.load(Path(__file__).parent / "digits_two_heads.dlg"), seed=0)
    options = graphdl.training_options("adam", max_epochs=args.epochs, mini_batch_size=128, learn_rate_schedule="piecewise", learn_rate_drop_period=5)
    targets = (train.labels, train.angles.reshape(-1, 1))  # one target per output, in output order
    net, info = graphdl.trainnet(train.images, targets, net, loss, options)

    probabilities, angles = net.predict(test.images)
    accuracy = (probabilities.argmax(1) == torch.as_tensor(test.labels)).float().mean().item() * 100
    rmse = (angles.squeeze(1) - torch.as_tensor(test.angles)).pow(2).mean().sqrt().item()
    print(f"test accuracy: {accuracy:.2f}%  angle RMSE: {rmse:.2f} degrees ({info.seconds:.1f} s of training)")
    return accuracy, rmse


if __name__ == "__main__":
    main()

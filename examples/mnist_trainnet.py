"""The seed's first half: the layer array trained in one call, written with graphdl.

    MATLAB                                                  graphdl
    [XTrain, YTrain] = digitTrain4DArrayData;               train = digits("train")
    layers = [imageInputLayer([28 28 1]) ...];              lgraph = graphdl.load("mnist.dlg")
    options = trainingOptions('sgdm', ...                   options = graphdl.training_options("sgdm",
        'InitialLearnRate', 0.01, 'MaxEpochs', 4, ...           initial_learn_rate=0.01, max_epochs=4,
        'Plots', 'training-progress');                          plots="training-progress")
    net = trainNetwork(XTrain, YTrain, layers, options);    net, info = graphdl.trainnet(X, T, net, "crossentropy", options)
    YPred = classify(net, XTest);                           predictions = net.predict(XTest).argmax(1)

MATLAB's classificationLayer is the "crossentropy" loss given to trainnet, as in MATLAB's own
trainnet, which replaced trainNetwork in R2023b. `graphdl train examples/mnist.dlg` runs the same
training from the command line.

Run it as `python examples/mnist_trainnet.py`. It prints a line per epoch and the test accuracy,
and writes the training-progress plot to `--plot`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import graphdl
from graphdl.datasets import digits


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="number of epochs (default: 4, as the seed)")
    parser.add_argument("--images", type=int, default=5000, help="training images (default: 5000, as digitTrain4DArrayData)")
    parser.add_argument("--plot", default="mnist_training_progress.png", help="where to write the training-progress plot")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train, test = digits("train", size=args.images), digits("test")
    lgraph = graphdl.load(Path(__file__).with_name("mnist.dlg"))
    net = graphdl.dlnetwork(lgraph, seed=0)
    options = graphdl.training_options("sgdm", initial_learn_rate=0.01, max_epochs=args.epochs, plots=args.plot)
    net, info = graphdl.trainnet(train.images, train.labels, net, "crossentropy", options)

    with torch.no_grad():
        predictions = net.predict(test.images).argmax(1)
    accuracy = (predictions == torch.as_tensor(test.labels)).float().mean().item() * 100
    print(f"test accuracy: {accuracy:.2f}% ({info.seconds:.1f} s of training)")
    print(f"wrote {args.plot}")
    return {"accuracy": accuracy, "loss": info.history["loss"][1], "seconds": info.seconds}


if __name__ == "__main__":
    main()

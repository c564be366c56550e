"""The seed's custom loop in several processes: DistributedDataParallel around the dlnetwork, each
process a share of every mini-batch, the gradients averaged by DDP inside dlgradient.

    torchrun --nproc_per_node 2 examples/custom_loop_ddp.py --epochs 2
    python examples/custom_loop_ddp.py --epochs 2          # one process: the same loop, alone

With the same seed, N processes follow one process's training: the same global mini-batches and
the same averaged gradients. (Batch normalisation would see each process's share of the
mini-batch; trainnet's sync_batch_norm option shares the statistics. This network has none.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import graphdl
from graphdl.datasets import digits


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--network", default=str(Path(__file__).with_name("mnist_dlnetwork.dlg")))
    parser.add_argument("--images", type=int, default=2048, help="training images (built-in digits)")
    parser.add_argument("--save", help="write the trained weights to this file (process 0's name; others add their rank)")
    args = parser.parse_args(argv)

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1  # started by torchrun
    if distributed:
        dist.init_process_group("gloo")  # "nccl" between GPUs
    rank, processes = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)

    torch.manual_seed(0)  # the same in every process: the same initial weights and the same order
    data = digits("train", args.images, seed=0)
    net = graphdl.dlnetwork(graphdl.load(args.network), seed=0)
    net.reset_input_normalization(data.images)
    # The forward pass goes through DDP, whose hooks average the gradients as dlgradient computes them.
    model = DistributedDataParallel(net) if distributed else net
    # Each process takes its share (its rank's slice) of every mini-batch of 128.
    queue = graphdl.MiniBatchQueue(data.images, data.labels, mini_batch_size=128, partial="discard", shard=(rank, processes))

    def model_gradients(net, X, T):
        loss = graphdl.crossentropy(model(X), T)
        return graphdl.dlgradient(loss, net.learnables), loss

    velocity = None
    for epoch in range(1, args.epochs + 1):
        queue.shuffle(torch.Generator().manual_seed(epoch))  # the same order in every process
        losses = []
        for X, T in queue:
            gradients, loss = graphdl.dlfeval(model_gradients, net, X, T)
            net, velocity = graphdl.sgdmupdate(net, gradients, velocity, 0.01, 0.9)
            losses.append(loss.detach())
        mean = torch.stack(losses).mean()
        if distributed:  # the loss of the whole mini-batches, as one process would see it
            dist.all_reduce(mean)
            mean /= processes
        if rank == 0:
            print(f"epoch {epoch}/{args.epochs}  loss {mean.item():.4f}")
    if args.save:
        torch.save(net.state_dict(), args.save if rank == 0 else f"{args.save}.{rank}")
    if distributed:
        dist.barrier()  # every process done before the group is torn down (teardown mid-exchange can abort one)
        dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""Memory of distributed training with and without fully_shard: a network large for this machine,
trained for a few iterations by trainnet in 2 processes (torchrun, gloo on the CPU), once with
DistributedDataParallel (a whole copy of the learnables, gradients and velocity in each process)
and once with fully_shard (each process holds half of each). Reported: each process's peak
resident memory, and the learnables' size for scale.

    python bench/fsdp_memory.py                  # width 8192: about 100M learnables
    python bench/fsdp_memory.py --width 16384    # about 335M learnables (several GB a process)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = '''
import os, resource, sys
import torch
import graphdl
from graphdl.train import training_options, trainnet

width, shard, steps = int(sys.argv[1]), sys.argv[2] == "fsdp", int(sys.argv[3])
source = f"""network wide {{
    input = featureInput(4096, normalization="none")
    fc1 = fullyConnected({width})
    relu1 = relu()
    fc2 = fullyConnected({width})
    relu2 = relu()
    fc3 = fullyConnected(10)
    prob = softmax()
}}
"""
torch.manual_seed(0)
net = graphdl.dlnetwork(graphdl.loads(source), seed=0)
X, T = torch.randn(32 * steps, 4096), torch.randint(0, 10, (32 * steps,))
options = training_options("sgdm", max_epochs=1, mini_batch_size=32, verbose=False, fully_shard=shard, l2_regularization=0.0)
trainnet(X, T, net, "crossentropy", options)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
print(f"process {os.environ['RANK']} peak {peak:.2f} GiB")
'''


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=8192)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    learnables = 4096 * args.width + args.width * args.width + args.width * 10 + 2 * args.width + 10
    print(f"network: 4096 -> {args.width} -> {args.width} -> 10, {learnables / 1e6:.0f}M learnables, {learnables * 4 / 2**30:.2f} GiB of float32")
    with tempfile.TemporaryDirectory() as folder:
        worker = Path(folder) / "worker.py"
        worker.write_text(WORKER, encoding="utf-8")
        for mode in ("ddp", "fsdp"):
            torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
            command = [*torchrun, str(worker), str(args.width), mode, str(args.steps)]
            result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            if result.returncode:
                raise SystemExit(result.stderr)
            lines = sorted(line for line in result.stdout.splitlines() if line.startswith("process"))
            print(f"{mode:<5} " + "; ".join(lines))
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB)")


if __name__ == "__main__":
    main()

"""trainnet: the one-call path, assembled from the same primitives a custom loop uses
(MiniBatchQueue, dlfeval, dlgradient, clip_gradients, sgdmupdate / adamupdate / rmspropupdate, a
schedule, the progress monitor, checkpoints).

One training step reads nothing back from the device: losses and accuracies are recorded as
tensors and read a few times an epoch (for the bar, the NaN check and the epoch line).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from graphdl.compiler import DLNetwork, dlnetwork
from graphdl.diagnostics import Diagnostic, RunError, error, one_line
from graphdl.graph import LayerGraph
from graphdl.train._arguments import check_data, check_writable, data_source, device_of, is_pair, loss_function, metric_functions, per_port
from graphdl.train._callbacks import CSVLogger, OutputFcn, ProgressInfo, TensorBoardLogger
from graphdl.train._checkpoints import read_resume, restore, write_checkpoint
from graphdl.train._data import MiniBatchQueue
from graphdl.train._distributed import Processes, collective_failed, join, local_device, run_in_processes, whole
from graphdl.train._gradients import clip_gradients, dlfeval, dlgradient
from graphdl.train._monitor import TrainingProgressMonitor
from graphdl.train._optimizers import base_learn_rate, make_optimizer, make_scheduler, optimizer_step
from graphdl.train._options import TrainingOptions
from graphdl.train._precision import LossScaler, autocast
from graphdl.train._schedules import Constant, Cosine, Piecewise, Warmup
from graphdl.train._sync_batch_norm import synchronize_batch_norm
from graphdl.train._updates import adamupdate, rmspropupdate, sgdmupdate


class TrainingError(RunError):
    """Training stopped by a failure (E804). Says when, what happened and which checkpoint is
    intact; the exception that stopped it, if any, is the `__cause__`. A loss function or a
    custom loop may raise one to stop training with its own words: `TrainingError("diverged")`
    is E804 with that message (this class means one failure, so a message alone says which)."""

    message_code = "E804"


@dataclass
class TrainingInfo:
    """What happened during training: per-iteration metrics, and how it ended."""

    history: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    epochs: int = 0
    iterations: int = 0
    stop_reason: str = ""
    last_checkpoint: Path | None = None
    seconds: float = 0.0
    output_iteration: int = 0  # the iteration whose weights the returned network has

    def final(self, metric: str) -> float | None:
        values = self.history.get(metric, ([], []))[1]
        return values[-1] if values else None


def trainnet(X, T, net=None, loss=None, options: TrainingOptions | None = None, *, resume: str | Path | None = None):
    """Train `net` (a DLNetwork, or a LayerGraph to compile) on observations `X` (batch first) and
    targets `T` (class indices for classification), minimising `loss`. Returns (net, info). As
    MATLAB's trainnet.

    `trainnet(data, net, loss, options)`, MATLAB's `trainnet(ds, net, lossFcn, options)`, trains on
    data that holds its targets: a torch `Dataset` of (x, t) pairs (a datastore), which trainnet
    batches (`mini_batch_size`, the last partial batch dropped, shuffled as `options.shuffle`
    says, read by `options.num_workers` processes); a `DataLoader`; or any re-iterable of (X, T)
    batches, used as they come. A generator, which can be gone through only once, is refused.
    `options.validation_data` takes the same. With several inputs or outputs, x and t are tuples
    as X and T are below.

    A network of several inputs takes `X` as a tuple of arrays, one per input in `net.input_names`
    order; one of several outputs takes `T` as a tuple, one per output. `loss` is "crossentropy",
    "mse" or a function; with several outputs, a function of the outputs then the targets,
    `loss(Y1, Y2, T1, T2)` as MATLAB's, or a tuple of one loss per output, summed. By default each
    output takes the loss of its output layer (`classification()`, `regression()`), else
    cross-entropy.

    `resume` is a checkpoint (or a folder of them: the newest) written by a run with the same
    solver, mini-batch size and data: training continues from it exactly, so that on the CPU with
    a fixed seed the weights end as an uninterrupted run's would. Data from a Dataset, a DataLoader
    or an iterable of batches resumes exactly too, as long as its order comes from torch's
    generators (a DataLoader's shuffle does, seeded by torch.manual_seed or its own generator): a
    checkpoint taken within an epoch makes the resumed run read that epoch's batches before it
    again and drop them, since a loader cannot be told where to begin."""

    if isinstance(T, (DLNetwork, LayerGraph)):  # trainnet(data, net, loss, options)
        if options is not None:
            raise error("E802", "trainnet(data, net, loss, options): data that holds its targets takes no T")
        T, net, loss, options = None, T, net, loss
    elif isinstance(X, (Dataset, DataLoader)):
        raise error("E802", f"trainnet: a {type(X).__name__} holds its targets: call trainnet(data, net, loss, options)")
    elif net is None:
        raise error("E802", "trainnet needs the network: trainnet(X, T, net, loss, options), or trainnet(data, net, loss, options)")
    options = options or TrainingOptions()
    if isinstance(net, LayerGraph):
        net = dlnetwork(net)
    if options.execution_environment in ("parallel", "multi-gpu") and not (dist.is_available() and dist.is_initialized()):
        return _train_in_processes(X, T, net, loss, options, resume)
    device = device_of(options.execution_environment)
    processes = join(cuda=device.type == "cuda")
    finished = False
    try:
        result = _trainnet(X, T, net, loss, options, resume, local_device(processes, device), processes)
        finished = True
        return result
    finally:
        if processes is not None:
            processes.end(finished)


def _train_in_processes(X, T, net, loss, options: TrainingOptions, resume):
    """MATLAB's "parallel" (processes on the CPU, one a core) and "multi-gpu" (one a GPU):
    trainnet started in `options.workers` new processes, each training with DDP; `net` takes
    process 0's weights."""
    cuda = options.execution_environment == "multi-gpu"
    if cuda and not torch.cuda.is_available():
        raise error("E802", 'execution_environment "multi-gpu" needs CUDA devices, and torch sees none')
    count = options.workers or (torch.cuda.device_count() if cuda else os.cpu_count() or 1)
    try:
        # A partial of a module-level function, which spawned processes (multi-gpu) can unpickle.
        state, info = run_in_processes(functools.partial(_train_in_one_process, X, T, net, loss, options, resume), count, cuda)
    except TypeError as e:  # spawned processes (multi-gpu): an argument that cannot be pickled
        raise error("E802", f'trainnet: execution_environment "{options.execution_environment}": {e}',
                    help="give the loss, metrics and callbacks as functions defined at module level, not lambdas or local functions") from None
    except RuntimeError as e:
        raise TrainingError([Diagnostic("E804", f"training in {count} processes stopped: {e}")]) from None
    net.load_state_dict(state)
    return net, info


def _train_in_one_process(X, T, net, loss, options: TrainingOptions, resume):
    trained, info = trainnet(X, T, net, loss, options, resume=resume)
    return {key: value.cpu() for key, value in trained.state_dict().items()}, info


def _trainnet(X, T, net, loss, options: TrainingOptions, resume, device: torch.device, processes: Processes | None):
    # Everything is checked before the network is touched: a refused call leaves it as it was.
    source = T is None
    if not source:
        inputs, targets = per_port(net, X, "input"), per_port(net, T, "output")
    loss_fn = loss_function(net, loss)
    shard = (0, 1) if processes is None else (processes.rank, processes.world)
    if processes is not None and options.mini_batch_size % processes.world:
        raise error(
            "E802",
            f"trainnet: the mini-batch of {options.mini_batch_size} cannot be shared equally among {processes.world} processes",
            help=f"make mini_batch_size (the whole mini-batch, shared out among the processes) a multiple of {processes.world}",
        )
    if source:
        # The first mini-batch stands for the data in the checks and in choosing the metrics.
        queue, first = data_source(net, X, options, device, shard=shard)
        inputs, targets = first[: len(net.input_names)], first[len(net.input_names) :]
    else:
        check_data(net, inputs, targets)
        if options.mini_batch_size > len(inputs[0]):
            raise error("E802", f"trainnet: the mini-batch size {options.mini_batch_size} is larger than the {len(inputs[0])} observations")
    validation = None
    if options.validation_data is not None and not is_pair(options.validation_data):
        validation, _ = data_source(net, options.validation_data, options, device, "validation ")
    elif options.validation_data is not None:
        Xv, Tv = options.validation_data
        validation_inputs, validation_targets = per_port(net, Xv, "input", "validation "), per_port(net, Tv, "output", "validation ")
        check_data(net, validation_inputs, validation_targets, "validation ")
        validation = MiniBatchQueue(*validation_inputs, *validation_targets, mini_batch_size=options.mini_batch_size, device=device)
    metric_fns = metric_functions(net, targets, options.metrics)
    data = ("batches", len(queue)) if source else ("arrays", len(inputs[0]))
    checkpoint = None if resume is None else read_resume(resume, options, data, 1 if processes is None else processes.world)
    main = processes is None or processes.main  # the process that shows progress and writes files
    if not main:
        options = dataclasses.replace(options, verbose=False, plots="none", log_csv=None, tensorboard_dir=None, output_fcn=None, callbacks=())
    check_writable(options)
    # Made now, since the TensorBoard writer may be missing (E008) and a refusal leaves the network as it was.
    callbacks = list(options.callbacks)
    if options.output_fcn is not None:
        callbacks.append(OutputFcn(options.output_fcn))
    if options.tensorboard_dir is not None:
        callbacks.append(TensorBoardLogger(options.tensorboard_dir))
    # A torch optimizer and its scheduler are made before the network moves, since the user's
    # factories may refuse (E802); the optimizer holds the parameters, which `to` moves in place.
    optimizer = scheduler = None
    if not isinstance(options.solver, str):
        optimizer = make_optimizer(net, options.solver)
        if options.lr_scheduler is not None:
            scheduler = make_scheduler(optimizer, options.lr_scheduler)
    if checkpoint is not None:
        # Checked whole before any weight is copied; the normalisation statistics are the checkpoint's.
        net.load_state_dict(checkpoint[1], origin=f"the checkpoint {checkpoint[0]}")
    net.to(device)
    if options.reset_input_normalization and checkpoint is None:
        if source:  # over the whole data, read once, as MATLAB does from a datastore
            batches = queue.all_batches(options.mini_batch_size, options.num_workers)
            net.reset_input_normalization_from(batch[: len(net.input_names)] for batch in batches)
        else:
            net.reset_input_normalization(*inputs)
    if not source:
        queue = MiniBatchQueue(*inputs, *targets, mini_batch_size=options.mini_batch_size, partial="discard", device=device, shard=shard)
    if options.channels_last:
        net.to(memory_format=torch.channels_last)
    metrics = ["loss", *metric_fns]
    if validation is not None:
        metrics += [f"validation {m}" for m in metrics]
    if options.log_csv is not None:
        callbacks.append(CSVLogger(options.log_csv, metrics))
    monitor = TrainingProgressMonitor(metrics, bar=None if options.verbose else False, stream=sys.stdout, live_plot=options.plots != "none")
    training = _Training(net, queue, validation, loss_fn, options, monitor, metric_fns, device, optimizer, scheduler, callbacks, processes)
    training.resume_state = None if checkpoint is None else checkpoint[2]
    return training.run()


class _Training:
    def __init__(self, net, queue, validation, loss_fn, options, monitor, metric_fns, device, optimizer=None, scheduler=None, callbacks=(),
                 processes: Processes | None = None):
        self.net, self.queue, self.validation, self.loss_fn, self.options = net, queue, validation, loss_fn, options
        self.monitor, self.metric_fns, self.device, self.callbacks = monitor, metric_fns, device, list(callbacks)
        self.processes = processes
        self.model = net  # what the forward pass runs: the network, or its DistributedDataParallel
        self.sharded = False  # fully_shard: the learnables are split among the processes
        self.whole = None  # then, an ordinary copy that the shards are gathered into
        # Whether process 0 has callbacks that may stop training, which every process must then hear
        # of each iteration (a read back from the device); processes other than 0 run none.
        self.callbacks_anywhere = processes is not None and processes.any(bool(callbacks), device)
        # float16 scales the loss (LossScaler); bfloat16 and float32 need not.
        self.scaler = LossScaler(device) if options.precision == "fp16" else None
        self.stop_requested = False
        self.resume_state = None  # a checkpoint's training state, to continue from
        self.inputs = len(net.input_names)
        self.info = TrainingInfo()
        schedule = options.learn_rate_schedule
        if callable(schedule):
            self.schedule = schedule
        elif schedule == "piecewise":
            self.schedule = Piecewise(options.initial_learn_rate, options.learn_rate_drop_factor, options.learn_rate_drop_period)
        elif schedule == "warmup":
            self.schedule = Warmup(options.initial_learn_rate)
        elif schedule == "cosine":
            self.schedule = Cosine(options.initial_learn_rate, period=options.max_epochs)
        else:
            self.schedule = Constant(options.initial_learn_rate)
        # A torch optimizer (solver) takes L2 as its weight_decay, so none is added to the gradients.
        self.optimizer, self.scheduler = optimizer, scheduler
        # The learnables grouped by their L2 factor, for one fused update per group.
        self.l2_groups: dict[float, list[int]] = {}
        for i, (layer, parameter) in enumerate(net.learnables.keys):
            factor = net.l2_factor(layer, parameter)
            if factor and options.l2_regularization and self.optimizer is None:
                self.l2_groups.setdefault(factor * options.l2_regularization, []).append(i)
        self.solver_state: tuple = (None, None)
        # MATLAB's "auto": the network of the lowest validation loss when there is validation data.
        self.keep_best = options.output_network == "best-validation-loss" or (options.output_network == "auto" and self.validation is not None)
        self.best_loss, self.best_iteration, self.best_weights = math.inf, 0, None
        self.validations_without_progress = 0

    def run(self):
        options, net, monitor = self.options, self.net, self.monitor
        start = time.monotonic()
        iteration = epoch = 0
        per_epoch = len(self.queue)
        total = per_epoch * options.max_epochs
        first_epoch, continue_epoch = 1, False
        # Before resuming, so that a restored solver state takes the sharded learnables' layout.
        restore_batch_norm = self._distribute()
        if self.resume_state is not None:
            # The checkpoint's order, position, solver and random states; its epoch continues
            # unless it was taken once the epoch had ended.
            iteration, epoch = restore(self, self.resume_state)
            continue_epoch = not self.resume_state["epoch_ended"]
            first_epoch = epoch if continue_epoch else epoch + 1
        elif options.shuffle == "once":
            self._shuffle()
        net.train()
        self.start = start
        # What "start" reports; a user's schedule is not called for it, since it may count its calls.
        learn_rate = options.initial_learn_rate if self.optimizer is None else base_learn_rate(self.optimizer)
        final: dict = {}
        try:
            self._notify("on_train_begin", 0, 0, learn_rate, "start")
            for epoch in range(first_epoch, options.max_epochs + 1):
                if self.stop_requested:
                    break
                if continue_epoch:
                    continue_epoch = False
                elif options.shuffle == "every-epoch":
                    self._shuffle()
                else:
                    self.queue.reset()
                monitor.mark_epoch(iteration + 1)
                self._notify("on_epoch_begin", epoch, iteration, learn_rate, "iteration")
                for batch in self.queue:
                    iteration += 1
                    X, T = batch[: self.inputs], batch[self.inputs :]
                    learn_rate = self.schedule(iteration, epoch) if self.optimizer is None else base_learn_rate(self.optimizer)
                    loss, gradients, Y = dlfeval(self._loss_and_gradients, X, T)
                    self._update(gradients, learn_rate, iteration)
                    values = {"loss": loss, **self._metric_values(Y, T)}
                    if self.processes is not None:  # the whole mini-batch's, as one process would show
                        values = dict(zip(values, self.processes.mean(list(values.values()))))
                    monitor.record(iteration, **values)
                    monitor.progress = 100 * iteration / total
                    monitor.update_info(epoch=f"{epoch}/{options.max_epochs}", iteration=iteration, **{"learn rate": f"{learn_rate:.3g}"})
                    if iteration % options.verbose_frequency == 0:
                        # MATLAB's VerboseFrequency: a line every so many iterations, the loss
                        # read back only then (and checked for NaN then).
                        self._check_finite(iteration, epoch)
                        if not monitor.bar:  # on a terminal or in a notebook the bar shows this live
                            self._say(f"iteration {iteration}  epoch {epoch}  loss {monitor.last('loss'):.4f}  learn rate {learn_rate:.3g}")
                    if self.validation is not None and iteration % options.validation_frequency == 0:
                        values.update(self._validate(iteration))
                    self._notify("on_iteration_end", epoch, iteration, learn_rate, "iteration", values)
                    if self.processes is not None and self.callbacks_anywhere:  # process 0's callbacks stop every process
                        self.stop_requested = self.processes.any(self.stop_requested, self.device)
                    if options.checkpoint_path and options.checkpoint_frequency_unit == "iteration" and iteration % options.checkpoint_frequency == 0:
                        self.info.last_checkpoint = write_checkpoint(self, epoch, iteration, epoch_ended=False)
                    if self.stop_requested or self.validations_without_progress >= options.validation_patience:
                        break
                self._end_epoch(epoch, iteration, per_epoch, learn_rate, start)
                if self.validations_without_progress >= options.validation_patience:
                    self.info.stop_reason = f"met the validation criterion: the validation loss did not fall in {options.validation_patience:g} validations"
                    self._say(f"training {self.info.stop_reason}")
                    break
                if self.stop_requested:
                    break
            else:
                self.info.stop_reason = "max epochs completed"
            if self.stop_requested:
                self.info.stop_reason = f"stopped by an output function or a callback at epoch {epoch}, iteration {iteration}"
                self._say(f"training {self.info.stop_reason}")
            self._share_statistics()  # every process returns process 0's network, as a checkpoint holds it
            if self.validation is not None and iteration % options.validation_frequency != 0:
                final = self._validate(iteration)
            self._notify("on_train_end", epoch, iteration, learn_rate, "done", final)
        except KeyboardInterrupt:
            self.info.stop_reason = f"stopped by the user at epoch {epoch}, iteration {iteration}"
            self._say(f"training {self.info.stop_reason}")
            self._notify("on_train_end", epoch, iteration, learn_rate, "done", final)
        except TrainingError:
            self._end_callbacks_after_failure(epoch, iteration, learn_rate)
            raise
        except Exception as e:
            self._end_callbacks_after_failure(epoch, iteration, learn_rate)
            what = one_line(e)
            if self.processes is not None:
                processes = self.processes
                where = f"in process {processes.rank} of {processes.world}"
                if collective_failed(e):
                    what = f"{where}, exchanging data with the other processes failed, most likely because another process stopped ({what})"
                else:
                    what = f"{where}: {what}"
            raise TrainingError([self._failure(epoch, iteration, what)]) from e
        finally:
            monitor.close()
            if restore_batch_norm is not None:
                restore_batch_norm()
        self.info.output_iteration = iteration
        if self.keep_best and self.best_weights is not None and self.best_iteration != iteration:
            net.load_state_dict(self.best_weights)
            self.info.output_iteration = self.best_iteration
            self._say(f"the network returned is the one of iteration {self.best_iteration}, of the lowest validation loss ({self.best_loss:.4f})")
        self.info.epochs, self.info.iterations = epoch, iteration
        self.info.seconds = time.monotonic() - start
        self.info.history = {m: monitor.history(m) for m in monitor.metrics}
        self._plot()
        return self.whole_network().to(self.device), self.info

    def _distribute(self):
        """In distributed training, wrap the network: DistributedDataParallel, or FSDP's
        fully_shard (each layer's learnables, gradients and solver state split among the
        processes). Returns what puts synchronised batch norms back, if any."""
        options, net, processes = self.options, self.net, self.processes
        if processes is None:
            return None
        restore_batch_norm = synchronize_batch_norm(net) if options.sync_batch_norm else None
        if options.fully_shard:
            from torch.distributed.fsdp import fully_shard

            self.sharded = True
            for module in net.layer_modules.values():  # one unit per layer, gathered only while it runs
                if any(True for _ in module.parameters(recurse=False)):
                    fully_shard(module)
            fully_shard(net)
            if self.optimizer is not None:  # a torch optimizer holds the learnables it was made with
                self.optimizer = make_optimizer(net, options.solver)
                self.scheduler = None if options.lr_scheduler is None else make_scheduler(self.optimizer, options.lr_scheduler)
            # The sharded network is not returned (its copy is), and the batch norms it had hold the
            # learnables as they were before sharding: they are not put back.
            restore_batch_norm = None
        else:
            # Synchronised statistics are equal everywhere; per-process ones are process 0's, as
            # torch's default (torch 2.13 renamed the option that says so).
            renamed = "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
            self.model = DistributedDataParallel(
                net, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                **{"forward_sync_buffers" if renamed else "broadcast_buffers": not options.sync_batch_norm},
            )
        return restore_batch_norm

    def whole_network(self, keep: bool = True):
        """The network as an ordinary DLNetwork: itself, or (fully_shard) an ordinary copy that
        the shards are gathered into, by every process together; with `keep` False a process
        takes part in the gathering only (a checkpoint that process 0 writes). The copy is made
        at the first need, so that it takes no memory while the shards train."""
        if not self.sharded:
            return self.net
        state = {key: whole(value) for key, value in self.net.state_dict().items()}
        if not keep:
            return None
        if self.whole is None:
            self.whole = _unsharded_copy(self.net)
        self.whole.load_state_dict(state)
        return self.whole

    def _share_statistics(self) -> None:
        """Process 0's batch-norm statistics in every process. Per-process statistics drift apart
        after each forward pass (DDP shares them only before the next), and a validation or the
        network returned must be the same everywhere, or the processes' early-stopping decisions
        could part."""
        if self.processes is not None and not self.options.sync_batch_norm:
            for buffer in self.net.buffers():
                self.processes.broadcast(buffer)

    def _shuffle(self) -> None:
        """A new order for the epoch; in distributed training, process 0's, so that the processes
        share out the same mini-batches."""
        self.queue.shuffle()
        if self.processes is not None:
            order = self.queue.order if isinstance(self.queue, MiniBatchQueue) else getattr(self.queue.batch_order, "order", None)
            if order is not None:
                shared = self.processes.broadcast(order.to(self.device))  # nccl sends only GPU tensors
                if shared is not order:
                    order.copy_(shared)

    def _notify(self, hook: str, epoch: int, iteration: int, learn_rate: float, state: str, values=None) -> None:
        """Run one hook of every callback; a hook returning True asks training to stop."""
        info = ProgressInfo(epoch, iteration, time.monotonic() - self.start, learn_rate, state, values or {})
        for callback in self.callbacks:
            if getattr(callback, hook)(info) is True:
                self.stop_requested = True

    def _end_callbacks_after_failure(self, epoch: int, iteration: int, learn_rate: float) -> None:
        # The logs write the rows they hold and close; the failure that stopped training is the
        # error to report, so a callback failing as well (a broken device) does not replace it.
        with contextlib.suppress(Exception):
            self._notify("on_train_end", epoch, iteration, learn_rate, "failed")

    def _say(self, line: str) -> None:
        if self.options.verbose:
            self.monitor.print(line)

    def _update(self, gradients, learn_rate: float, iteration: int) -> None:
        options = self.options
        if self.scaler is not None:
            gradients, finite = self.scaler.unscale(gradients)
            self.scaler.update()
            if not finite:  # the scale was too large for float16: this step is skipped, the scale halved
                return
        if self.l2_groups:
            grads, values = gradients.values, self.net.learnables.values
            with torch.no_grad():
                for l2, rows in self.l2_groups.items():
                    torch._foreach_add_([grads[i] for i in rows], [values[i] for i in rows], alpha=l2)
        if options.gradient_threshold != math.inf:
            gradients = clip_gradients(gradients, options.gradient_threshold, options.gradient_threshold_method)
        if self.optimizer is not None:
            optimizer_step(self.optimizer, self.net, gradients)
            if self.scheduler is not None and options.lr_scheduler_step == "iteration":
                self.scheduler.step()
            return
        first, second = self.solver_state
        if options.solver == "sgdm":
            _, first = sgdmupdate(self.net, gradients, first, learn_rate, options.momentum)
        elif options.solver == "adam":
            _, first, second = adamupdate(
                self.net, gradients, first, second, iteration, learn_rate, options.gradient_decay_factor, options.squared_gradient_decay_factor, options.epsilon
            )
        else:
            _, first = rmspropupdate(self.net, gradients, first, learn_rate, options.squared_gradient_decay_factor, options.epsilon)
        self.solver_state = (first, second)

    def _outputs(self, X, model=None, every: bool = False) -> tuple:
        """The network's outputs; with `every`, also those it computes in training only (an
        auxiliary head), so that validation takes the loss that training takes."""
        if self.options.channels_last:
            X = tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in X)
        if every and self.net.graph.training_outputs:
            Y = (model or self.model)(*X, outputs=self.net.output_names)
        else:
            Y = (model or self.model)(*X)
        return Y if isinstance(Y, tuple) else (Y,)

    def _float32(self, Y: tuple) -> tuple:
        # Losses and metrics in float32 whatever the forward pass ran in (the log of a bfloat16
        # probability is a coarse loss).
        return Y if self.options.precision == "fp32" else tuple(y.float() if y.is_floating_point() else y for y in Y)

    def _loss_and_gradients(self, X, T):
        with autocast(self.device, self.options.precision):
            Y = self._float32(self._outputs(X))
        loss = self.loss_fn(Y, T)
        gradients = dlgradient(loss if self.scaler is None else self.scaler.scale(loss), self.net.learnables)
        return loss.detach(), gradients, tuple(y.detach() for y in Y)

    @torch.no_grad()
    def _metric_values(self, Y, T) -> dict:
        return {name: metric(Y, T) for name, metric in self.metric_fns.items()}

    @torch.no_grad()
    def _validate(self, iteration: int) -> dict:
        """The validation loss and metrics: their means over the validation mini-batches, weighted
        by the batches' sizes (exact for the loss and the accuracies)."""
        totals = {name: torch.zeros((), device=self.device) for name in ["loss", *self.metric_fns]}
        count = 0
        self._share_statistics()
        with self.net.inference():
            for batch in self.validation:
                X, T = batch[: self.inputs], batch[self.inputs :]
                # The network itself: every process validates on all the data, with no exchange.
                with autocast(self.device, self.options.precision):
                    Y = self._float32(self._outputs(X, self.net, every=True))
                for name, value in {"loss": self.loss_fn(Y, T), **self._metric_values(Y, T)}.items():
                    totals[name] += value * len(X[0])
                count += len(X[0])
        self.validation.reset()
        values = {f"validation {name}": total / count for name, total in totals.items()}
        self.monitor.record(iteration, **values)
        # Early stopping and the best network need the loss read back, once per validation.
        if self.keep_best or self.options.validation_patience != math.inf:
            loss = values["validation loss"].item()
            if loss < self.best_loss:
                self.best_loss, self.best_iteration, self.validations_without_progress = loss, iteration, 0
                if self.keep_best:
                    self.best_weights = {key: value.detach().clone() for key, value in self.net.state_dict().items()}
            else:
                self.validations_without_progress += 1
        return values

    def _check_finite(self, iteration: int, epoch: int) -> None:
        loss = self.monitor.last("loss")
        if loss is not None and not math.isfinite(loss):
            raise TrainingError([self._failure(epoch, iteration, f"the training loss is {loss}", hint="lower the initial learn rate")])

    def _end_epoch(self, epoch: int, iteration: int, per_epoch: int, learn_rate: float, start: float) -> None:
        monitor, options = self.monitor, self.options
        self._check_finite(iteration, epoch)
        line = [f"epoch {epoch}/{options.max_epochs}", f"iteration {iteration}"]
        for metric in monitor.metrics:
            iterations, values = monitor.history(metric)
            recent = [v for i, v in zip(iterations, values) if i > iteration - per_epoch]
            if recent:
                mean = recent[-1] if metric.startswith("validation") else sum(recent) / len(recent)
                line.append(f"{metric} {mean:.2f}%" if "accuracy" in metric else f"{metric} {mean:.4f}")
        line += [f"learn rate {learn_rate:.3g}", f"{time.monotonic() - start:.1f} s"]
        if options.verbose:
            monitor.print("  ".join(line))
        # Stepped before the checkpoint, so that the checkpoint holds the epoch's whole effect.
        if self.scheduler is not None and options.lr_scheduler_step == "epoch":
            self.scheduler.step()
        if options.checkpoint_path and options.checkpoint_frequency_unit == "epoch" and epoch % options.checkpoint_frequency == 0:
            self.info.last_checkpoint = write_checkpoint(self, epoch, iteration, epoch_ended=True)
        self._plot()
        self._notify("on_epoch_end", epoch, iteration, learn_rate, "iteration")

    def _plot(self) -> None:
        if self.options.plot_file is not None:
            self.monitor.save(self.options.plot_file, title=f"Training progress: {self.net.graph.name}")

    def _failure(self, epoch: int, iteration: int, what: str, hint: str | None = None) -> Diagnostic:
        where = f"training stopped at epoch {epoch}, iteration {iteration}: {what}"
        kept = self.info.last_checkpoint
        if kept:
            saved = f"; the last checkpoint, {kept}, is intact"
        elif self.options.checkpoint_path:
            saved = "; no checkpoint had been written yet"
        else:
            saved = "; no checkpoint was written (set checkpoint_path to keep them)"
        return Diagnostic("E804", where + saved + (f"; {hint}" if hint else ""))


def _unsharded_copy(net):
    """A new DLNetwork of `net`'s graph, with its factors and frozen learnables, on the CPU (its
    weights are set from the shards when they are gathered)."""
    copy = dlnetwork(net.graph, seed=0)  # seeded: its own generator, leaving torch's (the shuffle's, dropout's) untouched
    for layer, parameter, value in net.learnables:
        copy.set_learn_rate_factor(layer, parameter, net.learn_rate_factor(layer, parameter))
        copy.set_l2_factor(layer, parameter, net.l2_factor(layer, parameter))
        copy.learnables[layer, parameter].requires_grad_(value.requires_grad)
    return copy



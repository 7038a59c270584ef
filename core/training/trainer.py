"""The trainer: runs a training run in the caller's thread and reports it through events.

``Trainer.run()`` blocks; the TUI and the CLI call it in a worker thread. Everything that happens goes
to the injected callback as a frozen event from ``core.events``; ``run`` never raises (a user error, NaN
loss, CUDA running out of memory or a bug all end in ``TrainingFailed``): a worker never dies silently.

The Trainer holds the run's settings and knows nothing of the model's insides: a factory
(``core.training.model_factory``) builds it. What one run changes is a ``RunState``; the step
and the bookkeeping that knows nothing of threads or events are in ``core.training.loop``.

From other threads: ``cancel()`` (or ``interrupt()``, for SIGTERM, SIGHUP, Ctrl-C) stops within one step
and saves a resumable interrupt checkpoint; ``snapshot()`` hands the viewer a CPU copy of the model.
"""
from __future__ import annotations

import gc
import logging
import math
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from core import events as ev
from core.training.checkpoint import (
    ClassifierSnapshot, capture_rng_state, restore_rng_state, save_checkpoint,
)
from core.config import ConfigError, RunConfig, check, to_dict
from core.data.prepare import PreparedData
from core.training.devices import (
    describe_device, keep_freed_memory, memory_bytes, release_cuda_memory, resolve_device,
)
from core.errors import UserError
from core.training.metrics import classification_report
from core.training.parallel import SingleProcess
from core.training.resume import encode_with_checkpoint_encoder, read_resume_state, restore_optimizer, restore_weights
from core.training.finetune import accumulate, class_weights, optimizer_steps
from core.training.model_factory import ModelFactory, build_model
from core.training.run_folder import RunFolderLock, check_run_folder
from core.training.schedule import lr_at
from core.training.loop import (
    LossWindow, PendingLog, Progress, RunState, Validation, absorb_window, build_optimizer, checkpoint_bytes,
    eval_batch_size, is_improvement, set_seed, train_step,
)

log = logging.getLogger(__name__)

# The UI cannot show more than a few updates a second; more would only cost the training thread.
MIN_LOG_INTERVAL_S = 0.1


class _Failure(Exception):
    """Ends the run with TrainingFailed; raised inside the trainer only."""

    def __init__(self, message: str, hint: str = "", step: int | None = None, epoch: int | None = None):
        super().__init__(message)
        self.event = ev.TrainingFailed(message=message, hint=hint, step=step, epoch=epoch)


def _nonfinite_failure(what: str, value: float, step: int, epoch: int, cfg: RunConfig) -> _Failure:
    clip = cfg.train.grad_clip
    hint = f"lower train.lr (now {cfg.train.lr:g})"
    hint += f" or lower train.grad_clip (now {clip:g})" if clip else " or enable train.grad_clip (e.g. 1.0)"
    return _Failure(f"the {what} became {value} at step {step} (epoch {epoch}); training stopped, "
                    "the last good checkpoint is kept", hint, step=step, epoch=epoch)


class Trainer:
    def __init__(self, config: RunConfig, on_event: ev.EventCallback, out_dir: str | Path | None = None,
                 resume_from: str | Path | None = None, data: Any = None, fresh_optimizer: bool = False,
                 parallel: Any = None, model_factory: ModelFactory = build_model):
        self.config, self._model_factory = config, model_factory
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self._folder_lock: RunFolderLock | None = None  # held while training
        self.resume_from = Path(resume_from) if resume_from is not None else None
        # Resume a checkpoint that has no optimizer.pt with a new optimizer (refused otherwise).
        self.fresh_optimizer = fresh_optimizer
        self._on_event = on_event
        self._data = data
        self._par = parallel if parallel is not None else SingleProcess()  # or core.distributed's DistributedRun
        self._stop = threading.Event()
        # Held while the optimizer changes the weights, so a snapshot never sees half a step.
        self._weights_lock = threading.Lock()
        self._state: RunState | None = None  # the run in progress, once its model exists
        self._done = threading.Event()
        self.outcome: ev.Event | None = None  # the terminal event, once run() returned

    # --- called from other threads -------------------------------------------------------

    def cancel(self) -> None:
        """Stop after the current step and save an 'interrupt' checkpoint that can be resumed."""
        self._stop.set()

    def interrupt(self) -> None:
        """What a signal asks for (SIGTERM, SIGHUP, Ctrl-C): the same as ``cancel``."""
        self.cancel()

    def wait(self, timeout: float | None = None) -> bool:  # True once run() has returned
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def data(self) -> PreparedData | None:
        """The prepared data once the run has loaded it (validation examples for the viewer)."""
        return self._data

    def snapshot(self) -> ClassifierSnapshot | None:
        """A CPU copy of the current model in eval mode, or None before the model exists."""
        run = self._state
        if run is None:
            return None
        return ClassifierSnapshot.copy_of(run.model, run.data.encoder, list(run.data.label_names),
                                          self.config.model.max_seq_len, self._weights_lock)

    # --- the run -------------------------------------------------------------------------

    def run(self) -> None:
        failure: ev.TrainingFailed | None = None
        oom = False
        try:
            try:
                self._run()
            finally:
                if self._folder_lock is not None:
                    self._folder_lock.release()
                    self._folder_lock = None
        except _Failure as exc:
            failure = exc.event
        except UserError as exc:
            failure = ev.TrainingFailed(message=exc.message, hint=exc.hint)
        except ConfigError as exc:
            failure = ev.TrainingFailed(message="invalid configuration: " + "; ".join(map(str, exc.errors)),
                                        hint="fix these settings and start again")
        except torch.cuda.OutOfMemoryError:
            oom = True
        except Exception as exc:  # a bug: report it with its traceback rather than die silently
            step, epoch = self._position()
            lost = self._par.failure(exc)  # another rank went away: not a bug of this one
            failure = ev.TrainingFailed(
                message=lost or f"training failed unexpectedly: {type(exc).__name__}: {exc}", step=step, epoch=epoch,
                hint="" if lost else "this is a bug; the traceback follows:\n" + traceback.format_exc())
        if oom:
            # Outside the except block, so the traceback's frames (and their tensors) are gone.
            step, epoch = self._position()
            self._release_after_oom()
            failure = ev.TrainingFailed(
                message=f"CUDA ran out of memory at step {step + 1} (epoch {epoch})",
                hint=f"lower train.batch_size (now {self.config.train.batch_size}) or model.max_seq_len "
                     f"(now {self.config.model.max_seq_len}), or use a smaller model",
                step=step + 1, epoch=epoch,
            )
        if failure is not None:
            self._finish(failure)
        self._done.set()

    def _position(self) -> tuple[int, int]:
        """(optimizer steps taken, epoch in progress) of the run, for failure reports."""
        run = self._state
        return (run.progress.step, run.epoch) if run is not None else (0, 0)

    def _release_after_oom(self) -> None:
        self._state = None
        gc.collect()
        release_cuda_memory()

    def _emit(self, event: ev.Event) -> None:
        try:
            self._on_event(event)
        except Exception:  # a broken consumer must not take the training run down with it
            log.exception("event consumer failed on %s", type(event).__name__)

    def _finish(self, event: ev.Event) -> None:
        self.outcome = event
        self._emit(event)

    # --- setup -----------------------------------------------------------------------------

    def _run(self) -> None:
        cfg = check(self.config)
        keep_freed_memory()  # each step reuses the pages the last one freed (and so does reading the data)
        resume_state = None
        if self.resume_from is not None:
            self.resume_from, resume_state = read_resume_state(self.resume_from, cfg, self.fresh_optimizer)

        set_seed(cfg.train.seed)
        data = self._data
        if data is None:
            from core.data.prepare import prepare_data
            data = prepare_data(cfg.data, cfg.model, cfg.train.seed)
        check(cfg, train_size=len(data.train.labels))
        if resume_state is not None:
            if list(resume_state["label_names"]) != list(data.label_names):
                raise UserError(f"the checkpoint's classes {resume_state['label_names']} differ from the data's "
                                f"{data.label_names}", "resume with the data the run was trained on")
            data = encode_with_checkpoint_encoder(data, self.resume_from, cfg.model.max_seq_len)
        self._data = data

        device = self._par.setup_device(resolve_device(cfg.train.device))
        set_seed(cfg.train.seed)
        model = self._model_factory(cfg, data).to(device)
        optimizer = build_optimizer(model, cfg.train)
        if self.out_dir is not None:
            check_run_folder(self.out_dir, needed_bytes=checkpoint_bytes(model))
            if self._par.is_main:  # the rank that writes
                self._folder_lock = RunFolderLock.acquire(self.out_dir)

        steps_per_epoch = optimizer_steps(self._par.steps_per_epoch(data.train, cfg.train.batch_size),
                                          cfg.train.grad_accum_steps)
        progress, fresh_optimizer = Progress(), False
        if resume_state is not None:
            restore_weights(model, self.resume_from, device)
            fresh_optimizer = not restore_optimizer(optimizer, self.resume_from, device)
            progress = Progress.from_state(resume_state)
            restore_rng_state(resume_state["rng"])
            self._par.resume(resume_state, progress, steps_per_epoch)  # saved by another world size?

        run = RunState(model=model, optimizer=optimizer, data=data, device=device, progress=progress,
                       steps_per_epoch=steps_per_epoch, total_steps=steps_per_epoch * cfg.train.epochs,
                       session_start_step=progress.step, step_model=self._par.wrap(model),
                       class_weight=class_weights(cfg.train, data.train.labels, len(data.label_names), device))
        self._state = run
        self._emit(ev.RunStarted(
            config=to_dict(cfg), device=describe_device(device), label_names=list(data.label_names),
            num_train=len(data.train.labels), num_val=len(data.val.labels), total_epochs=cfg.train.epochs,
            steps_per_epoch=steps_per_epoch, num_parameters=sum(p.numel() for p in model.parameters()),
            start_epoch=progress.epoch, data_summary=dict(getattr(data, "summary", {}) or {}),
            fresh_optimizer=fresh_optimizer, world_size=self._par.world_size,
        ))
        self._train(run)

    # --- the loop --------------------------------------------------------------------------

    def _train(self, run: RunState) -> None:
        tcfg = self.config.train
        progress = run.progress
        run.model.train()
        run.started = time.perf_counter()
        reason = "completed"
        while progress.epoch < tcfg.epochs:
            run.epoch = progress.epoch + 1  # 1-based, as shown
            # Batches are shuffled by seed + epoch alone, so resuming at any epoch repeats them.
            batches = self._par.epoch_batches(run.data.train, tcfg.batch_size, seed=tcfg.seed + run.epoch)
            if not self._train_epoch(run, accumulate(batches, tcfg.grad_accum_steps)):
                return self._stopped(run)
            checked = self._validate(run)
            if checked is None:
                return self._stopped(run)
            val = checked.result
            loss_sum, correct, samples = self._par.sum_epoch(progress)  # over every rank
            train_loss = loss_sum / max(1, samples)
            train_acc = correct / max(1, samples)
            if checked.improved or progress.improved_this_epoch:
                progress.epochs_without_improvement = 0
            else:
                progress.epochs_without_improvement += 1
            progress.end_epoch(train_loss, val.loss, val.accuracy)
            self._emit(ev.EpochCompleted(
                epoch=run.epoch, total_epochs=tcfg.epochs, train_loss=train_loss, val_loss=val.loss,
                val_accuracy=val.accuracy, elapsed_s=time.perf_counter() - run.started, train_accuracy=train_acc,
            ))
            if self.out_dir is not None:
                self._save(run, "last", checked.metric)
                if checked.improved:
                    self._save(run, "best", checked.metric)
            if run.best is None:
                run.best = (val, run.epoch)  # resumed past the best epoch: report the latest
            patience = tcfg.early_stopping_patience
            if patience and progress.epochs_without_improvement >= patience and progress.epoch < tcfg.epochs:
                reason = "early_stopped"
                break
            if self._par.stop_now(self._stop.is_set()):
                return self._stopped(run)

        best_val, best_epoch = run.best or (None, 0)
        if best_val is not None and best_val.labels:
            report = classification_report(best_val.labels, best_val.predictions, len(run.data.label_names))
            self._emit(ev.ClassReportComputed(
                label_names=list(run.data.label_names), accuracy=report.accuracy, precision=report.precision,
                recall=report.recall, f1=report.f1, support=report.support, confusion=report.confusion,
                epoch=best_epoch,
            ))
        checkpoint_dir = None
        if self.out_dir is not None:
            best = self.out_dir / "best"
            checkpoint_dir = str(best if best.exists() else self.out_dir / "last")
        self._finish(ev.TrainingFinished(
            epochs_completed=progress.epoch, elapsed_s=time.perf_counter() - run.started,
            best_metric=progress.best_metric, best_epoch=progress.best_epoch, reason=reason,
            checkpoint_dir=checkpoint_dir,
        ))

    def _validate(self, run: RunState) -> Validation | None:
        """Evaluate on the validation split and track the best; None when a stop was requested midway."""
        tcfg = self.config.train
        progress = run.progress
        val = self._par.evaluate(run.model, run.data.val, eval_batch_size(tcfg.batch_size), run.device, tcfg.bf16,
                                 self._stop.is_set)
        if val is None:
            return None
        if not math.isfinite(val.loss) and val.labels:
            raise _nonfinite_failure("validation loss", val.loss, progress.step, run.epoch, self.config)
        metric = val.loss if tcfg.early_stopping_metric == "val_loss" else val.accuracy
        improved = is_improvement(tcfg.early_stopping_metric, metric, progress.best_metric)
        if improved:
            progress.best_metric, progress.best_epoch = metric, run.epoch
            run.best = (val, run.epoch)
        return Validation(result=val, metric=metric, improved=improved)

    def _validate_midway(self, run: RunState) -> None:
        """train.eval_every_steps: an evaluation inside the epoch; a new best is saved at once."""
        checked = self._validate(run)
        if checked is None:
            return  # stopping: the loop notices at the next step
        if checked.improved:
            run.progress.improved_this_epoch = True
        self._emit(ev.ValidationReported(
            epoch=run.epoch, step=run.progress.step, val_loss=checked.result.loss,
            val_accuracy=checked.result.accuracy, elapsed_s=time.perf_counter() - run.started,
            improved=checked.improved,
        ))
        if checked.improved and self.out_dir is not None:
            self._save(run, "best", checked.metric)

    def _train_epoch(self, run: RunState, batches) -> bool:
        """Run the rest of one epoch; False when stopped before its end."""
        tcfg = self.config.train
        progress, device = run.progress, run.device
        window = LossWindow(first_step=progress.step + 1)
        run.pending = PendingLog()
        eval_every = tcfg.eval_every_steps
        for index, batch in enumerate(batches):
            if index < progress.batch_in_epoch:
                continue  # resumed mid-epoch: these batches were trained before the interrupt
            if self._par.should_stop(self._stop.is_set()):
                self._flush(run, window, emit=False)
                return False
            if device.type != "cpu":
                batch = batch.to(device)
            lr = lr_at(progress.step, tcfg, run.total_steps)
            loss, logits = train_step(run.step_model, run.optimizer, batch, lr, tcfg, device, self._weights_lock,
                                      run.class_weight, self._par.gradients_ready)
            progress.step += 1
            progress.batch_in_epoch = index + 1
            window.add(loss, (logits.argmax(dim=-1) == batch.labels).sum(), batch.labels.shape[0], batch.num_tokens)
            if progress.step % tcfg.log_every_steps == 0:
                # The only host-device synchronisation of the loop: once per log_every_steps.
                self._flush(run, window, emit=True, lr=lr)
                window = LossWindow(first_step=progress.step + 1)
            if eval_every and progress.step % eval_every == 0 and progress.batch_in_epoch < run.steps_per_epoch:
                self._flush(run, window, emit=False)  # a best/ saved now has the epoch's sums
                window = LossWindow(first_step=progress.step + 1)
                self._validate_midway(run)
        self._flush(run, window, emit=False)
        progress.batch_in_epoch = run.steps_per_epoch
        return True

    def _flush(self, run: RunState, window: LossWindow, emit: bool, lr: float = 0.0) -> None:
        """Read the window's losses, stop on NaN/inf, and report a StepLogged when it is time."""
        progress, pending = run.progress, run.pending
        nonfinite = absorb_window(window, progress, pending)
        if nonfinite is not None:
            raise _nonfinite_failure("training loss", nonfinite[1], nonfinite[0], run.epoch, self.config)
        ranks = self._par.liveness(progress.step, sum(window.sizes)) if emit else []  # every rank, unthrottled
        now = time.perf_counter()
        if not emit or pending.steps == 0 or now - run.last_emit < MIN_LOG_INTERVAL_S:
            return
        span = max(now - pending.started, 1e-9)
        elapsed = now - run.started
        done = progress.step - run.session_start_step
        remaining = run.total_steps - progress.step
        self._emit(ev.StepLogged(
            epoch=run.epoch, step=progress.step, total_steps=run.total_steps,
            epoch_progress=min(1.0, progress.batch_in_epoch / max(1, run.steps_per_epoch)),
            loss=pending.loss_sum / pending.steps, lr=lr, samples_per_s=pending.samples * self._par.world_size / span,
            tokens_per_s=pending.tokens * self._par.world_size / span, elapsed_s=elapsed,
            eta_s=elapsed / max(1, done) * remaining, memory_bytes=memory_bytes(run.device), ranks=ranks,
        ))
        run.pending = PendingLog()
        run.last_emit = now

    # --- checkpoints and stopping --------------------------------------------------------------

    def _save(self, run: RunState, kind: str, metric: float | None) -> None:
        progress = run.progress
        shared = self._par.checkpoint_state(progress)  # every rank takes part, then rank 0 alone writes
        if self._par.is_main:
            state = {"kind": kind, **progress.to_state(), "rng": capture_rng_state(), **shared}
            folder = save_checkpoint(self.out_dir / kind, run.model, run.data.encoder, self.config,
                                     list(run.data.label_names), state, run.optimizer)
            self._emit(ev.CheckpointSaved(path=str(folder), kind=kind, epoch=progress.epoch, step=progress.step,
                                          metric=metric))

    def _stopped(self, run: RunState) -> None:
        """Cancelled or interrupted: save what this session trained as a resumable checkpoint."""
        progress = run.progress
        checkpoint_dir = None
        if self.out_dir is not None and progress.step > run.session_start_step:
            # The epoch in progress is saved as "epochs done + batches done", resumable exactly.
            self._save(run, "interrupt", progress.best_metric)
            checkpoint_dir = str(self.out_dir / "interrupt")
        elif self.resume_from is not None:
            checkpoint_dir = str(self.resume_from)  # nothing trained since: resume from there again
        self._finish(ev.TrainingCancelled(epoch=progress.epoch, step=progress.step, checkpoint_dir=checkpoint_dir))

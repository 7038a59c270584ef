"""The trainer: runs a training run in the caller's thread and reports it through events.

``Trainer.run()`` blocks; the TUI and the CLI call it in a worker thread. Everything that
happens goes to the injected callback as a frozen event from ``core.events``; ``run`` never
raises (a user error, NaN loss, CUDA running out of memory or a bug all end in
``TrainingFailed``), so a worker thread never dies silently.

From other threads: ``cancel()`` stops within one step, ``interrupt()`` also saves a resumable
checkpoint first (SIGTERM, SIGHUP, Ctrl-C), and ``snapshot()`` hands the attention viewer a
CPU copy of the current model.
"""
from __future__ import annotations

import copy
import gc
import logging
import math
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from core import events as ev
from core.training.checkpoint import (
    ClassifierSnapshot, capture_rng_state, load_optimizer_state, load_weights, read_state,
    resolve_checkpoint, restore_rng_state, save_checkpoint,
)
from core.config import ConfigError, RunConfig, from_dict, to_dict, validate
from core.data.prepare import PreparedData
from core.training.devices import configure_threads, describe_device, memory_bytes, release_cuda_memory, resolve_device
from core.errors import UserError
from core.training.metrics import classification_report
from core.training.schedule import lr_at
from core.training.loop import (
    LossWindow, PendingLog, Progress, autocast_context, build_optimizer, encode_with_checkpoint_encoder,
    eval_batch_size, evaluate, is_improvement, set_seed,
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
                 resume_from: str | Path | None = None, data: Any = None):
        self.config = config
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.resume_from = Path(resume_from) if resume_from is not None else None
        self._on_event = on_event
        self._data = data
        self._stop = threading.Event()
        self._interrupt = threading.Event()
        # Held while the optimizer changes the weights, so a snapshot never sees half a step.
        self._weights_lock = threading.Lock()
        self._model: torch.nn.Module | None = None
        self._encoder: Any = None
        self._label_names: list[str] = []
        self._done = threading.Event()
        self.outcome: ev.Event | None = None  # the terminal event, once run() returned

    # --- called from other threads -------------------------------------------------------

    def cancel(self) -> None:
        """Stop after the current step; no checkpoint is written."""
        self._stop.set()

    def interrupt(self) -> None:
        """Stop after the current step and save an 'interrupt' checkpoint that can be resumed."""
        self._interrupt.set()
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once ``run`` has returned."""
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
        model = self._model
        if model is None:
            return None
        with self._weights_lock:
            # deepcopy, not a fresh model: building one would draw from the global RNG the
            # training thread is using for dropout and break reproducibility.
            clone = copy.deepcopy(model)
        clone = clone.to("cpu").eval()
        for p in clone.parameters():
            p.grad = None
            p.requires_grad_(False)
        return ClassifierSnapshot(clone, self._encoder, list(self._label_names), self.config.model.max_seq_len)

    # --- the run -------------------------------------------------------------------------

    def run(self) -> None:
        failure: ev.TrainingFailed | None = None
        oom = False
        try:
            self._run()
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
            failure = ev.TrainingFailed(
                message=f"training failed unexpectedly: {type(exc).__name__}: {exc}",
                hint="this is a bug; the traceback follows:\n" + traceback.format_exc(),
                step=getattr(self, "_step", None), epoch=getattr(self, "_epoch", None),
            )
        if oom:
            # Outside the except block, so the traceback's frames (and their tensors) are gone.
            self._release_after_oom()
            failure = ev.TrainingFailed(
                message=f"CUDA ran out of memory at step {self._step + 1} (epoch {self._epoch})",
                hint=f"lower train.batch_size (now {self.config.train.batch_size}) or model.max_seq_len "
                     f"(now {self.config.model.max_seq_len}), or use a smaller model",
                step=self._step + 1, epoch=self._epoch,
            )
        if failure is not None:
            self._finish(failure)
        self._done.set()

    def _release_after_oom(self) -> None:
        self._optimizer = None
        self._model = None
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
        cfg = self.config
        self._step, self._epoch = 0, 0
        errors = validate(cfg)
        if errors:
            raise ConfigError(errors)
        resume_state = self._read_resume_state() if self.resume_from is not None else None

        set_seed(cfg.train.seed)
        data = self._data
        if data is None:
            from core.data.prepare import prepare_data
            data = prepare_data(cfg.data, cfg.model, cfg.train.seed)
        errors = validate(cfg, train_size=len(data.train.labels))
        if errors:
            raise ConfigError(errors)
        if resume_state is not None:
            if list(resume_state["label_names"]) != list(data.label_names):
                raise UserError(f"the checkpoint's classes {resume_state['label_names']} differ from the data's "
                                f"{data.label_names}", "resume with the data the run was trained on")
            data = encode_with_checkpoint_encoder(data, self.resume_from, cfg.model.max_seq_len)

        from core.data.batching import iterate_batches, num_batches
        from core.model import TransformerClassifier

        device = resolve_device(cfg.train.device)
        if device.type == "cpu":
            configure_threads()
        set_seed(cfg.train.seed)
        # A pretrained tokenizer brings its own vocabulary, which may exceed model.vocab_size.
        vocab_size = max(cfg.model.vocab_size, data.encoder.vocab_size)
        model = TransformerClassifier(cfg.model, len(data.label_names), vocab_size=vocab_size).to(device)
        optimizer = build_optimizer(model, cfg.train)
        self._model, self._optimizer = model, optimizer
        self._encoder, self._label_names = data.encoder, list(data.label_names)

        progress = Progress()
        if resume_state is not None:
            model.load_state_dict(load_weights(self.resume_from, device))
            opt_state = load_optimizer_state(self.resume_from, device)
            if opt_state is not None:
                optimizer.load_state_dict(opt_state)
            progress = Progress.from_state(resume_state)
            restore_rng_state(resume_state["rng"])

        steps_per_epoch = num_batches(data.train, cfg.train.batch_size)
        self._data, self._device = data, device
        self._steps_per_epoch = steps_per_epoch
        self._total_steps = steps_per_epoch * cfg.train.epochs
        self._emit(ev.RunStarted(
            config=to_dict(cfg), device=describe_device(device), label_names=list(data.label_names),
            num_train=len(data.train.labels), num_val=len(data.val.labels), total_epochs=cfg.train.epochs,
            steps_per_epoch=steps_per_epoch, num_parameters=sum(p.numel() for p in model.parameters()),
            start_epoch=progress.epoch, data_summary=dict(getattr(data, "summary", {}) or {}),
        ))
        self._iterate_batches = iterate_batches
        self._train(model, optimizer, progress, iterate_batches)

    def _read_resume_state(self) -> dict[str, Any]:
        self.resume_from = resolve_checkpoint(self.resume_from)
        state = read_state(self.resume_from)
        saved = from_dict(state["config"])
        if saved.model != self.config.model:
            raise UserError(f"the model settings differ from the checkpoint's in {self.resume_from}",
                            "resume with the checkpoint's model settings (only train.* may change)")
        if state.get("batch_in_epoch") and saved.train.batch_size != self.config.train.batch_size:
            raise UserError(f"{self.resume_from} stopped inside an epoch with train.batch_size "
                            f"{saved.train.batch_size}", "resume it with the same batch size")
        return state

    # --- the loop --------------------------------------------------------------------------

    def _train(self, model, optimizer, progress: Progress, iterate_batches) -> None:
        cfg, data, device = self.config, self._data, self._device
        tcfg = cfg.train
        model.train()
        self._t0 = time.perf_counter()
        self._session_start_step = progress.step
        self._step = progress.step
        self._best_eval = None  # (EvalResult, epoch) of the best epoch seen in this session
        self._last_emit = float("-inf")  # the first log point always reports
        reason = "completed"
        while progress.epoch < tcfg.epochs:
            epoch = progress.epoch + 1  # 1-based, as shown
            self._epoch = epoch
            # Batches are shuffled by seed + epoch alone, so resuming at any epoch repeats them.
            batches = iterate_batches(data.train, tcfg.batch_size, shuffle=True, seed=tcfg.seed + epoch)
            finished = self._train_epoch(model, optimizer, progress, batches, epoch)
            if not finished:
                return self._stopped(model, optimizer, progress)
            checked = self._validate(model, progress, epoch)
            if checked is None:
                return self._stopped(model, optimizer, progress)
            val, metric, improved = checked
            train_loss = progress.epoch_loss_sum / max(1, progress.epoch_samples)
            train_acc = progress.epoch_correct / max(1, progress.epoch_samples)
            if improved or progress.improved_this_epoch:
                progress.epochs_without_improvement = 0
            else:
                progress.epochs_without_improvement += 1
            progress.end_epoch(train_loss, val.loss, val.accuracy)
            self._emit(ev.EpochCompleted(
                epoch=epoch, total_epochs=tcfg.epochs, train_loss=train_loss, val_loss=val.loss,
                val_accuracy=val.accuracy, elapsed_s=time.perf_counter() - self._t0, train_accuracy=train_acc,
            ))
            if self.out_dir is not None:
                self._save("last", model, optimizer, progress, metric)
                if improved:
                    self._save("best", model, optimizer, progress, metric)
            if self._best_eval is None:
                self._best_eval = (val, epoch)  # resumed past the best epoch: report the latest
            patience = tcfg.early_stopping_patience
            if patience and progress.epochs_without_improvement >= patience and progress.epoch < tcfg.epochs:
                reason = "early_stopped"
                break
            if self._stop.is_set():
                return self._stopped(model, optimizer, progress)

        best_val, best_epoch = self._best_eval or (None, 0)
        if best_val is not None and best_val.labels:
            report = classification_report(best_val.labels, best_val.predictions, len(self._label_names))
            self._emit(ev.ClassReportComputed(
                label_names=list(self._label_names), accuracy=report.accuracy, precision=report.precision,
                recall=report.recall, f1=report.f1, support=report.support, confusion=report.confusion,
                epoch=best_epoch,
            ))
        checkpoint_dir = None
        if self.out_dir is not None:
            best = self.out_dir / "best"
            checkpoint_dir = str(best if best.exists() else self.out_dir / "last")
        self._finish(ev.TrainingFinished(
            epochs_completed=progress.epoch, elapsed_s=time.perf_counter() - self._t0,
            best_metric=progress.best_metric, best_epoch=progress.best_epoch, reason=reason,
            checkpoint_dir=checkpoint_dir,
        ))

    def _validate(self, model, progress: Progress, epoch: int):
        """Evaluate on the validation split and track the best: (result, metric, improved), or
        None when a stop was requested midway."""
        cfg = self.config
        tcfg = cfg.train
        batches = self._iterate_batches(self._data.val, eval_batch_size(tcfg.batch_size), shuffle=False, seed=0)
        val = evaluate(model, batches, self._device, tcfg.bf16, self._stop.is_set)
        if val is None:
            return None
        if not math.isfinite(val.loss) and val.labels:
            raise _nonfinite_failure("validation loss", val.loss, progress.step, epoch, cfg)
        metric = val.loss if tcfg.early_stopping_metric == "val_loss" else val.accuracy
        improved = is_improvement(tcfg.early_stopping_metric, metric, progress.best_metric)
        if improved:
            progress.best_metric, progress.best_epoch = metric, epoch
            self._best_eval = (val, epoch)
        return val, metric, improved

    def _validate_midway(self, model, optimizer, progress: Progress, epoch: int) -> None:
        """train.eval_every_steps: an evaluation inside the epoch; a new best is saved at once."""
        checked = self._validate(model, progress, epoch)
        if checked is None:
            return  # stopping: the loop notices at the next step
        val, metric, improved = checked
        if improved:
            progress.improved_this_epoch = True
        self._emit(ev.ValidationReported(
            epoch=epoch, step=progress.step, val_loss=val.loss, val_accuracy=val.accuracy,
            elapsed_s=time.perf_counter() - self._t0, improved=improved,
        ))
        if improved and self.out_dir is not None:
            self._save("best", model, optimizer, progress, metric)

    def _train_epoch(self, model, optimizer, progress: Progress, batches, epoch: int) -> bool:
        """Run the rest of one epoch; False when stopped before its end."""
        cfg = self.config
        tcfg = cfg.train
        device = self._device
        total_steps, steps_per_epoch = self._total_steps, self._steps_per_epoch
        window = LossWindow(first_step=progress.step + 1)
        self._pending = PendingLog()
        eval_every = tcfg.eval_every_steps
        for index, batch in enumerate(batches):
            if index < progress.batch_in_epoch:
                continue  # resumed mid-epoch: these batches were trained before the interrupt
            if self._stop.is_set():
                self._flush(window, progress, epoch, emit=False)
                return False
            if device.type != "cpu":
                batch = batch.to(device)
            lr = lr_at(progress.step, tcfg, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with autocast_context(device, tcfg.bf16):
                logits = model(batch.input_ids, batch.attention_mask)  # (B, C)
            loss = F.cross_entropy(logits.float(), batch.labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if tcfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            with self._weights_lock:
                optimizer.step()
            progress.step += 1
            progress.batch_in_epoch = index + 1
            self._step = progress.step
            window.add(loss, (logits.argmax(dim=-1) == batch.labels).sum(), batch.labels.shape[0], batch.num_tokens)
            if progress.step % tcfg.log_every_steps == 0:
                # The only host-device synchronisation of the loop: once per log_every_steps.
                self._flush(window, progress, epoch, emit=True, lr=lr)
                window = LossWindow(first_step=progress.step + 1)
            if eval_every and progress.step % eval_every == 0 and progress.batch_in_epoch < steps_per_epoch:
                self._flush(window, progress, epoch, emit=False)  # a best/ saved now has the epoch's sums
                window = LossWindow(first_step=progress.step + 1)
                self._validate_midway(model, optimizer, progress, epoch)
        self._flush(window, progress, epoch, emit=False)
        progress.batch_in_epoch = steps_per_epoch
        return True

    def _flush(self, window: LossWindow, progress: Progress, epoch: int, emit: bool, lr: float = 0.0) -> None:
        """Read the window's losses, stop on NaN/inf, and report a StepLogged when it is time."""
        losses, correct = window.read()
        for offset, value in enumerate(losses):
            if not math.isfinite(value):
                raise _nonfinite_failure("training loss", value, window.first_step + offset, epoch, self.config)
        pending = self._pending
        for value, right, size in zip(losses, correct, window.sizes):
            progress.epoch_loss_sum += value * size
            progress.epoch_correct += int(right)
            progress.epoch_samples += size
            pending.loss_sum += value
            pending.steps += 1
            pending.samples += size
        pending.tokens += window.tokens
        now = time.perf_counter()
        if not emit or pending.steps == 0 or now - self._last_emit < MIN_LOG_INTERVAL_S:
            return
        span = max(now - pending.started, 1e-9)
        elapsed = now - self._t0
        done = progress.step - self._session_start_step
        remaining = self._total_steps - progress.step
        self._emit(ev.StepLogged(
            epoch=epoch, step=progress.step, total_steps=self._total_steps,
            epoch_progress=min(1.0, progress.batch_in_epoch / max(1, self._steps_per_epoch)),
            loss=pending.loss_sum / pending.steps, lr=lr, samples_per_s=pending.samples / span,
            tokens_per_s=pending.tokens / span, elapsed_s=elapsed,
            eta_s=elapsed / max(1, done) * remaining, memory_bytes=memory_bytes(self._device),
        ))
        self._pending = PendingLog()
        self._last_emit = now

    # --- checkpoints and stopping --------------------------------------------------------------

    def _save(self, kind: str, model, optimizer, progress: Progress, metric: float | None) -> None:
        folder = save_checkpoint(
            self.out_dir / kind, model, self._encoder, self.config, self._label_names,
            {"kind": kind, **progress.to_state(), "rng": capture_rng_state()}, optimizer,
        )
        self._emit(ev.CheckpointSaved(path=str(folder), kind=kind, epoch=progress.epoch, step=progress.step,
                                      metric=metric))

    def _stopped(self, model, optimizer, progress: Progress) -> None:
        checkpoint_dir = None
        if self._interrupt.is_set():
            if self.out_dir is not None and progress.step > self._session_start_step:
                # The epoch in progress is saved as "epochs done + batches done", resumable exactly.
                self._save("interrupt", model, optimizer, progress, progress.best_metric)
                checkpoint_dir = str(self.out_dir / "interrupt")
            elif self.resume_from is not None:
                checkpoint_dir = str(self.resume_from)  # nothing trained since: resume from there again
        self._finish(ev.TrainingCancelled(epoch=progress.epoch, step=progress.step, checkpoint_dir=checkpoint_dir))

"""Data-parallel `twb train` jobs on the CPU with gloo: real torchrun jobs of two processes.

Each job is a few seconds of the nano preset; the two module fixtures' jobs are shared by the
tests that compare against them (the module runs in one pytest-xdist worker, so each runs once).
"""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.config import preset
from core.data.batching import iterate_batches
from core.data.prepare import prepare_data
from core.model import TransformerClassifier
from core.training.loop import evaluate

pytestmark = pytest.mark.xdist_group("distributed-runs")  # with --dist loadgroup: one worker, fixtures once

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
EPOCH = re.compile(r"Epoch (\d+)/\d+, (Train Loss: .*)")

# Makes rank TWB_FAULT_RANK raise (or be killed) at its third training step, noting the time.
# Installed in every process and checked at each step: a worker forked from the launcher's fork
# server learns its RANK only after the interpreter started.
FAULT = """
import os, time
if "TWB_FAULT_RANK" in os.environ:
    import core.training.loop as loop
    real, calls = loop.train_step, [0]
    def faulty(*args, **kwargs):
        if os.environ.get("RANK") == os.environ["TWB_FAULT_RANK"]:
            calls[0] += 1
            if calls[0] == 3:
                open(os.environ["TWB_FAULT_AT"], "w").write(str(time.time()))
                if os.environ["TWB_FAULT"] == "kill":
                    import signal
                    os.kill(os.getpid(), signal.SIGKILL)
                raise RuntimeError("injected failure")
        return real(*args, **kwargs)
    loop.train_step = faulty
"""


def twb_train(*args: str, env: dict | None = None, timeout: float = 240, quiet: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", "train", *(["--quiet"] if quiet else []), *args], cwd=ROOT,
                          env=env or ENV, capture_output=True, text=True, timeout=timeout)


def epochs(out: str) -> dict[int, str]:
    """Epoch number -> the numbers of its line, from a run's stdout."""
    return {int(m.group(1)): m.group(2) for m in EPOCH.finditer(out)}


def patched_env(folder: Path, sitecustomize: str, **extra: str) -> dict:
    """The job's environment with ``sitecustomize`` run first in every process it starts."""
    (folder / "sitecustomize.py").write_text(sitecustomize)
    return {**ENV, "PYTHONPATH": f"{ROOT}{os.pathsep}{folder}", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    """2 processes, 2 epochs of nano, recorded as a session."""
    base = tmp_path_factory.mktemp("ddp")
    done = twb_train("--preset", "nano", "--nproc-per-node", "2", "--out", str(base / "run"), "--session", "ddp",
                     "--sessions-dir", str(base / "sessions"), "--set", "train.log_every_steps=4")
    assert done.returncode == 0, done.stderr
    return base, done


@pytest.fixture(scope="module")
def two_node_run(tmp_path_factory):
    """Two torchrun invocations as two nodes of one process each, 1 epoch of nano: (run folder,
    each node's stdout). Their workers are processes torchrun starts, which would abort at
    interpreter exit (ABORT_AT_EXIT) if a finished rank did not end without it."""
    base = tmp_path_factory.mktemp("two-nodes")
    port = free_port()
    nodes = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
         "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "twb-two-nodes",
         "--log-dir", str(base / f"logs-{node}"),
         "-m", "core.cli", "train", "--quiet", "--preset", "nano", "--out", str(base / "run"),
         "--set", "train.epochs=1"], cwd=ROOT, env=patched_env(base, ABORT_AT_EXIT), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, preexec_fn=own_core(node))
        for node in range(2)]
    outputs = []
    try:
        for node in nodes:
            outputs.append(node.communicate(timeout=240))
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    assert [node.returncode for node in nodes] == [0, 0], [err for _, err in outputs]
    return base / "run", [out for out, _ in outputs]


def own_core(node: int):
    """For a simulated node's process: run on a core of its own, as a node of its own would (each
    node's rank would otherwise take every core of this machine, and their threads contend)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return lambda: os.sched_setaffinity(0, {cores[node % len(cores)]})


def test_two_torchrun_invocations_as_two_nodes_match_one_node(two_process_run, two_node_run):
    _, one_node = two_process_run
    printed = [epochs(out) for out in two_node_run[1]]
    assert sorted(map(len, printed)) == [0, 1]  # the node with rank 0 prints, the other is silent
    assert max(printed, key=len)[1] == epochs(one_node.stdout)[1]


def test_two_processes_learn_and_rank_0_alone_prints_and_writes(two_process_run):
    base, done = two_process_run
    lines = epochs(done.stdout)
    assert sorted(lines) == [1, 2] and done.stdout.count("Epoch 2/2") == 1  # one rank printed
    assert float(lines[2].rsplit("Val Accuracy: ", 1)[1]) >= 0.85  # chance is 0.5
    sessions = list((base / "sessions").iterdir())
    assert len(sessions) == 1  # one session, however many ranks
    assert sorted(p.name for p in (base / "run").iterdir()) == ["best", "last"]
    records = [json.loads(line) for line in (sessions[0] / "session.jsonl").read_text().splitlines()]
    started = next(r for r in records if r["type"] == "RunStarted")
    assert started["world_size"] == 2
    steps = [r for r in records if r["type"] == "StepLogged"]
    assert steps and all(sorted(r["rank"] for r in s["ranks"]) == [0, 1] for s in steps)
    assert all(r["step"] == s["step"] and r["samples_per_s"] > 0 for s in steps for r in s["ranks"])
    assert started["steps_per_epoch"] == -(-1800 // 32)  # 57 global batches of 2 x 16, a slice each


def test_resume_across_world_sizes_2_to_1_to_2_and_exact_with_the_same(two_process_run, two_node_run, tmp_path):
    _, full = two_process_run
    first, _ = two_node_run  # 1 epoch of 2 ranks (the test above: the same as one node's epoch 1)
    # The same world size: epoch 2 exactly as in the uninterrupted run.
    same = twb_train("--resume", str(first / "last"), "--nproc-per-node", "2", "--out", str(tmp_path / "same"),
                     "--set", "train.epochs=2")
    assert same.returncode == 0, same.stderr
    assert epochs(same.stdout)[2] == epochs(full.stdout)[2]
    # 2 -> 1 (the plain trainer) -> 2.
    one = twb_train("--resume", str(first / "last"), "--out", str(tmp_path / "one"), "--set", "train.epochs=2")
    assert one.returncode == 0, one.stderr
    assert 2 in epochs(one.stdout)
    two = twb_train("--resume", str(tmp_path / "one" / "last"), "--nproc-per-node", "2",
                    "--out", str(tmp_path / "two"), "--set", "train.epochs=3")
    assert two.returncode == 0, two.stderr
    assert 3 in epochs(two.stdout)


# Makes rank 1 train a WordPiece vocabulary of other pieces than rank 0's, as another version of
# the tokenizers library on another node may.
OTHER_VOCABULARY = """
import os
import core.data.tokenization as tokenization
real = tokenization._train_wordpiece
tokenization._train_wordpiece = lambda texts, vocab_size, lowercase: real(
    texts, vocab_size - 20 if os.environ.get("RANK") == "1" else vocab_size, lowercase)
"""


def test_ranks_whose_tokenizers_differ_train_on_rank_0s(tmp_path):
    env = patched_env(tmp_path, OTHER_VOCABULARY)
    done = twb_train("--preset", "nano", "--nproc-per-node", "2", "--out", str(tmp_path / "run"),
                     "--set", "data.tokenizer=wordpiece", "--set", "data.num_samples=400", "--set", "train.epochs=1",
                     env=env)
    assert done.returncode == 0, done.stderr  # not "the processes of the job prepared different training data"
    assert 1 in epochs(done.stdout)
    saved = json.loads((tmp_path / "run" / "last" / "tokenizer.json").read_text())
    assert len(saved["model"]["vocab"]) == 200  # rank 0's (rank 1's has 180)


# Makes every rank abort at interpreter exit, as freeing gloo's threads there sometimes did.
ABORT_AT_EXIT = """
import atexit, os
atexit.register(lambda: os.environ.get("RANK") is not None and os.abort())
"""


def test_a_data_file_is_checked_before_the_workers_start_and_they_read_it_from_the_cache(tmp_path):
    env = patched_env(tmp_path, ABORT_AT_EXIT, TWB_CACHE_DIR=str(tmp_path / "cache"))
    data = tmp_path / "reviews.csv"
    data.write_text("text\nno label column here\n", encoding="utf-8")
    alone = twb_train("--preset", "nano", "--data", str(data), "--out", str(tmp_path / "alone"), env=env)
    job = twb_train("--preset", "nano", "--nproc-per-node", "2", "--data", str(data), "--out", str(tmp_path / "job"),
                    env=env)
    assert job.returncode == alone.returncode == 2  # bad input, as with one process (a failed job is 1)
    assert job.stderr == alone.stderr and len(job.stderr.splitlines()) == 1 and "reviews.csv" in job.stderr
    # Fixed, it trains, and the workers read the data the launcher prepared.
    rows = [f"{word} {kind} film,{label}" for word in ("good", "fine", "great", "bad", "dull", "awful")
            for kind, label in (("plot", 0), ("cast", 1)) for _ in range(20)]
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    done = twb_train("--preset", "nano", "--nproc-per-node", "2", "--data", str(data), "--out", str(tmp_path / "job"),
                     "--set", "train.epochs=1", env=env, quiet=False)
    assert done.returncode == 0, done.stderr  # a rank that has finished ends before the teardown's abort
    assert re.search(r"^data: cached \(", done.stdout, re.MULTILINE), done.stdout
    assert 1 in epochs(done.stdout)


def test_validation_across_ranks_is_exact(tmp_path):
    """Three ranks (uneven shards) give the loss, accuracy and predictions of one process."""
    from safetensors.torch import save_file

    cfg = preset("nano")
    data = prepare_data(cfg.data, cfg.model, cfg.train.seed)
    torch.manual_seed(3)
    model = TransformerClassifier(cfg.model, len(data.label_names),
                                  vocab_size=max(cfg.model.vocab_size, data.encoder.vocab_size))
    save_file(model.state_dict(), str(tmp_path / "w.safetensors"))
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "3",
         "--log-dir", str(tmp_path / "logs"),
         str(ROOT / "tests" / "core" / "ddp_eval_worker.py"), str(tmp_path / "w.safetensors"),
         str(tmp_path / "out.json")], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    shared = json.loads((tmp_path / "out.json").read_text())
    batches = list(iterate_batches(data.val, 16, shuffle=False, seed=0))
    alone = evaluate(model, iter(batches), torch.device("cpu"), False)
    order = [i for b in batches for i in b.indices]
    by_example = dict(zip(order, alone.predictions))
    assert len(shared["predictions"]) == len(data.val.labels)  # every example once, no padding
    assert shared["predictions"] == [by_example[i] for i in range(len(order))]
    assert shared["labels"] == list(data.val.labels)
    assert shared["accuracy"] == alone.accuracy
    assert shared["loss"] == pytest.approx(alone.loss, rel=1e-6)


def test_two_ranks_train_the_weights_of_one_process_on_the_global_batch(tmp_path):
    """DDP on gloo with the token table's gradients sent sparse: after three steps of AdamW with
    clipping, the weights are those of one process stepping on the ranks' batches together."""
    from ddp_step_common import CONFIG, global_batches, new_model
    from safetensors.torch import load_file, save_file

    from core.data.batching import collate
    from core.training.loop import build_optimizer, train_step

    torch.manual_seed(5)
    model = new_model()
    save_file(model.state_dict(), str(tmp_path / "w.safetensors"))
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "--log-dir", str(tmp_path / "logs"), str(ROOT / "tests" / "core" / "ddp_step_worker.py"),
         str(tmp_path / "w.safetensors"), str(tmp_path / "after.safetensors")],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "after.safetensors.json").read_text()) == {"sparse": True}
    optimizer = build_optimizer(model, CONFIG.train)
    for ids, labels in global_batches():
        train_step(model, optimizer, collate(ids, labels, list(range(len(ids)))), 1e-2, CONFIG.train,
                   torch.device("cpu"))
    shared = load_file(str(tmp_path / "after.safetensors"))
    moved = (model.embedding.weight - load_file(str(tmp_path / "w.safetensors"))["embedding.weight"]).abs().max()
    assert moved > 1e-3  # the steps did train the table
    width = CONFIG.model.emb_dim
    for name, alone in model.state_dict().items():
        theirs = shared[name]
        if name.endswith("in_proj.bias"):
            # The keys' bias has a true gradient of exactly 0 (softmax ignores a shift shared by
            # every key); Adam scales its rounding noise up to full steps, so compare Q and V only.
            alone, theirs = torch.cat([alone[:width], alone[2 * width:]]), torch.cat([theirs[:width], theirs[2 * width:]])
        torch.testing.assert_close(theirs, alone, rtol=0, atol=1e-4, msg=name)


@pytest.mark.parametrize("fault, said", [("raise", "failed: training failed unexpectedly: RuntimeError: injected "
                                                   "failure"), ("kill", "was killed by SIGKILL")])
def test_a_rank_that_fails_ends_the_job_with_one_line_naming_it(tmp_path, fault, said):
    env = patched_env(tmp_path, FAULT, TWB_FAULT_RANK="1", TWB_FAULT=fault, TWB_FAULT_AT=str(tmp_path / "at"))
    done = twb_train("--preset", "nano", "--nproc-per-node", "2", "--out", str(tmp_path / "run"),
                     "--set", "train.epochs=50", "--set", "data.num_samples=400", env=env)
    ended = time.time()
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("twb: error: rank 1 (pid ") and said in last, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # not also rank 0's "lost contact"
    assert ended - float((tmp_path / "at").read_text()) < 30  # no hang (50 epochs would take minutes)


@contextlib.contextmanager
def long_job_under_way(out: Path, stderr=subprocess.PIPE):
    """A 2-process nano job of 50 epochs (minutes) in a process group of its own, as a terminal
    starts one, yielded once training is under way on every rank; whatever of it is left is
    killed afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "train", "--preset", "nano", "--nproc-per-node", "2",
                             "--out", str(out), "--set", "train.epochs=50", "--set", "data.num_samples=400"],
                            cwd=ROOT, env=ENV, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        for line in proc.stdout:
            if line.lstrip().startswith("step "):  # training is under way on every rank
                break
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("signum, to_the_group", [(signal.SIGTERM, False), (signal.SIGHUP, True)],
                         ids=["sigterm-to-the-launcher", "sighup-to-the-terminal-group"])
def test_a_signal_stops_every_rank_and_rank_0_saves_the_interrupt_checkpoint(tmp_path, signum, to_the_group):
    # SIGHUP to the whole process group is what a dropped terminal sends: every process of the
    # job gets it, multiprocessing's own helpers too.
    out = tmp_path / "run"
    with long_job_under_way(out) as proc:
        if to_the_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=120)
    name = signal.Signals(signum).name
    assert proc.returncode == 128 + signum, stderr
    assert stderr.count(f"{name} received") == 1  # rank 0 alone says so
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr
    assert "resume with: twb train --resume" in stdout
    state = json.loads((out / "interrupt" / "state.json").read_text())
    assert state["world_size"] == 2 and len(state["ranks"]) == 2


def test_a_launcher_killed_with_sigkill_takes_its_workers_with_it(tmp_path):
    # kill -9 of `twb train --nproc-per-node 2` (an OOM killer, a scheduler): its workers used to
    # train on, orphaned, to the end of the run.
    out = tmp_path / "run"
    with long_job_under_way(out, stderr=subprocess.STDOUT) as proc:
        proc.kill()
        proc.wait()
        # The workers' output pipe closes once the last process of the job is gone.
        rest = proc.stdout.read()
    assert "resume with: twb train --resume" in rest  # rank 0 saved, as on SIGTERM
    assert (out / "interrupt" / "state.json").is_file()

"""core.distributed without a process group: the environment, the sharding plan, resuming with
another world size, and the launcher's checks and failure lines."""
import argparse
import socket
from types import SimpleNamespace

import pytest

from core.commands.train import register
from core.data.batching import batch_order
from core.distributed import sharding
from core.distributed.env import read_env, threads_per_rank, under_torchrun
from core.distributed.launch import LOST_CONTACT, check_nproc, check_port, describe_failure, namespace_argv
from core.errors import UserError
from core.training.loop import Progress
from core.training.parallel import adapt_progress


def test_the_torchrun_environment_is_read_and_checked():
    env = read_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert (env.rank, env.world_size, env.local_rank, env.local_world_size, env.is_main) == (3, 4, 1, 2, False)
    assert under_torchrun({"RANK": "0", "WORLD_SIZE": "1"}) and not under_torchrun({})
    for bad in ({"RANK": "0", "WORLD_SIZE": "2"}, {"RANK": "x", "WORLD_SIZE": "2", "LOCAL_RANK": "0"},
                {"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}):
        with pytest.raises(UserError):
            read_env(bad)
    assert threads_per_rank(16, 4) == 4 and threads_per_rank(2, 2) == 1 and threads_per_rank(2, 8) == 1


@pytest.mark.parametrize("n, batch, world", [(1000, 16, 2), (1001, 16, 3), (97, 8, 4), (50, 50, 1), (66, 8, 4)])
def test_ranks_share_an_epoch_without_repeats_and_with_equal_steps(n, batch, world):
    lengths = [(i * 7919) % 31 + 1 for i in range(n)]
    plans = [sharding.rank_batches(lengths, batch, world, rank, seed=5) for rank in range(world)]
    steps = sharding.steps_per_epoch(n, batch, world)
    assert all(len(plan) == steps for plan in plans)  # no rank waits for a step another never takes
    seen = [i for plan in plans for b in plan for i in b]
    assert len(seen) == len(set(seen))  # no example twice
    assert n - len(seen) <= world - 1  # the documented remainder, no more
    assert plans[0] != sharding.rank_batches(lengths, batch, world, 0, seed=6)  # a new order each epoch
    # Each step's slices make one global batch of one process with batch x world: the plain
    # trainer's batches at that batch size, and one length bucket, so the ranks pad alike.
    global_batches = [b for b in batch_order(lengths, batch * world, shuffle=True, seed=5) if len(b) >= world]
    assert [sorted(i for plan in plans for i in plan[step]) for step in range(steps)] == \
        [sorted(b) for b in global_batches]
    for step in range(steps):
        longest = [max(lengths[i] for i in plan[step]) for plan in plans]
        assert max(longest) - min(longest) <= 2
    if world == 1:  # one process: exactly the plain trainer's batches
        assert plans[0] == batch_order(lengths, batch, shuffle=True, seed=5)


@pytest.mark.parametrize("n, world", [(872, 2), (10, 3), (2, 4), (0, 2)])
def test_validation_shards_cover_every_example_exactly_once(n, world):
    lengths = [(i * 31) % 17 + 1 for i in range(n)]
    shards = [sharding.validation_shard(lengths, world, rank) for rank in range(world)]
    assert sorted(i for shard in shards for i in shard) == list(range(n))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_resuming_with_another_world_size_keeps_the_share_of_the_epoch_and_the_schedule():
    progress = Progress()
    progress.epoch, progress.batch_in_epoch, progress.step = 1, 20, 80  # 2 ranks x 60 steps per epoch
    adapt_progress(progress, saved_world=2, world=1, steps_per_epoch=120)
    assert (progress.batch_in_epoch, progress.step) == (40, 160)
    adapt_progress(progress, saved_world=1, world=2, steps_per_epoch=60)
    assert (progress.batch_in_epoch, progress.step) == (20, 80)
    same = Progress()
    same.epoch, same.batch_in_epoch, same.step = 1, 7, 67
    adapt_progress(same, saved_world=2, world=2, steps_per_epoch=60)
    assert (same.batch_in_epoch, same.step) == (7, 67)  # unchanged world size: exact


def test_more_processes_than_gpus_is_refused_and_a_port_in_use_is_named():
    with pytest.raises(UserError, match="more than the 1 GPU"):
        check_nproc(2, "cuda", 1, cores=16)
    check_nproc(4, "cpu", 0, cores=4)
    check_nproc(2, "cpu", 0, cores=1)  # two processes always, for trying it on a small machine
    with pytest.raises(UserError, match="more than the 2 CPU cores"):
        check_nproc(1000, "cpu", 0, cores=2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port} is already in use"):
            check_port(port)


def _failure(pid, exitcode, message=None, timestamp=1):
    data = {"message": {"message": message, "extraInfo": {}}} if message else {"message": "<NONE>"}
    return SimpleNamespace(pid=pid, exitcode=exitcode, error_file_data=data, timestamp=timestamp)


def test_a_failed_job_is_one_line_naming_the_root_cause_rank():
    rank, line = describe_failure({
        0: _failure(10, 1, f"RankFailed: rank 0 {LOST_CONTACT}: Connection closed by peer", timestamp=1),
        1: _failure(11, -9, timestamp=2),
    }, nproc=2)
    assert rank == 1 and line == "rank 1 (pid 11) was killed by SIGKILL (1 other rank stopped with it)"
    rank, line = describe_failure({2: _failure(12, 1, "RankFailed: the loss became nan\nTraceback...")}, nproc=1)
    assert (rank, line) == (2, "rank 2 (pid 12) failed: the loss became nan")
    # Forked workers are reported one at a time: the others were stopped all the same.
    rank, line = describe_failure({1: _failure(11, -9)}, nproc=4)
    assert line == "rank 1 (pid 11) was killed by SIGKILL (3 other ranks stopped with it)"


def _failed_job(failures):
    """A job callable that fails as torchrun's launcher does, with these per-rank failures."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    error = ChildFailedError.__new__(ChildFailedError)  # __init__ formats a report from real files
    error.failures = failures

    def job(*argv):
        raise error
    return job


def test_the_launcher_prints_the_line_unless_rank_0_printed_it_itself(capsys):
    from core.distributed.launch import _run

    # Rank 0 only lost contact (another node went away): rank 0 leaves that to the launcher.
    lost = {0: _failure(10, 1, f"RankFailed: rank 0 {LOST_CONTACT}: Connection closed by peer")}
    assert _run(_failed_job(lost), [], 2) == 1
    assert capsys.readouterr().err == (f"twb: error: rank 0 (pid 10) failed: rank 0 {LOST_CONTACT}: Connection closed by "
                                       "peer (1 other rank stopped with it)\n")
    # Rank 0's own error: rank 0 printed it as `twb train` always does.
    own = {0: _failure(10, 1, "RankFailed: the loss became nan"), 1: _failure(11, 1, f"RankFailed: rank 1 {LOST_CONTACT}: x")}
    assert _run(_failed_job(own), [], 2) == 1
    assert capsys.readouterr().err == ""


def test_a_worker_gets_the_same_options_without_the_launcher_s():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    train = register(sub)
    argv = ["train", "--preset", "nano", "--set", "train.epochs=3", "--set", "train.lr=0.01", "--quiet",
            "--nproc-per-node", "2", "--port", "29999", "--out", "runs/x"]
    args = parser.parse_args(argv)
    rebuilt = namespace_argv(train, args, ("nproc_per_node", "port"))
    again = parser.parse_args(["train", *rebuilt])
    assert "--nproc-per-node" not in rebuilt and "--port" not in rebuilt
    assert vars(again) | {"nproc_per_node": 2, "port": 29999} == vars(args)


def test_the_header_shows_the_effective_batch_and_steps_show_each_rank(capsys):
    from core import events as ev
    from core.commands.printer import HeadlessPrinter

    printer = HeadlessPrinter(progress_every_s=0)
    printer(ev.RunStarted(config={"train": {"batch_size": 16}}, device="cpu (1 thread)", label_names=["a", "b"],
                          num_train=100, num_val=10, total_epochs=1, steps_per_epoch=3, num_parameters=5,
                          world_size=2))
    printer(ev.StepLogged(epoch=1, step=2, total_steps=3, epoch_progress=0.6, loss=0.5, lr=1e-3, samples_per_s=900,
                          tokens_per_s=1, elapsed_s=1, eta_s=1,
                          ranks=[{"rank": 0, "step": 2, "samples_per_s": 500.0},
                                 {"rank": 1, "step": 2, "samples_per_s": 400.0}]))
    out = capsys.readouterr().out
    assert "Training on 2 processes x cpu (1 thread), effective batch 32 (16 per process)" in out
    assert "ranks 0:500 1:400/s" in out


def test_a_damaged_per_rank_state_is_a_user_error_and_sums_carry_over_to_one_process():
    from core.distributed.ddp import rank_states
    from core.training.checkpoint_state import capture_rng_state
    from core.training.parallel import SingleProcess

    good = {"rng": capture_rng_state(), "epoch_sums": [2.0, 3, 4]}
    assert rank_states({"ranks": [good, good]}) == [good, good] and rank_states({}) == []
    for bad in ("x", [{"rng": {}, "epoch_sums": [1, 2, 3]}], [{**good, "epoch_sums": [1, "a", 3]}]):
        with pytest.raises(UserError, match="per-rank state"):
            rank_states({"ranks": bad})
    progress = Progress()
    progress.epoch, progress.batch_in_epoch = 0, 10
    SingleProcess().resume({"world_size": 2, "ranks": [good, good]}, progress, steps_per_epoch=40)
    assert (progress.batch_in_epoch, progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples) == \
        (20, 4.0, 6, 8)

import torch

from core.training.devices import configure_threads, describe_device, memory_bytes, peak_rss_bytes, resolve_device


def test_auto_picks_cuda_only_when_present():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


def test_cpu_description_and_memory_are_real_numbers():
    assert describe_device(torch.device("cpu")).startswith("cpu (")
    rss = memory_bytes(torch.device("cpu"))
    assert rss is not None and 10 * 2**20 < rss <= peak_rss_bytes() * 1.01


def test_thread_count_is_only_ever_lowered():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert configure_threads() == 1  # a caller's lower choice stays
        torch.set_num_threads(512)
        assert configure_threads() <= len(__import__("os").sched_getaffinity(0))
    finally:
        torch.set_num_threads(before)

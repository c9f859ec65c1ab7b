"""The system panel's numbers: present, plausible, and MFU as the hand count says."""

from pathlib import Path

import pytest
import torch

from tui_transformer.model.config import ModelConfig
from tui_transformer.model.tools.flops import flops_per_token
from tui_transformer.train.events import SystemSample
from tui_transformer.train.peak import known_gpu_peak, peak_flops
from tui_transformer.train.system import SystemSampler, rss_bytes


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="compares with /proc")
def test_rss_is_within_2x_of_what_proc_reports():
    (line,) = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS:")]
    proc = int(line.split()[1]) * 1024
    assert proc / 2 <= rss_bytes() <= proc * 2


def test_a_sample_has_cpu_rss_and_the_mfu_of_the_hand_count():
    # d 16, 1 layer, F 32, V 10, T 8: N = 1·(4·256 + 2·16·32) + 16·10 = 2,208; 6N + 12·1·16·8 = 14,784
    config = ModelConfig(vocab_size=10, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_seq_len=8)
    assert flops_per_token(config) == 14_784
    sampler = SystemSampler("cpu", flops_per_token(config), lambda at_least: 1e9, interval_s=0.0)
    busy = torch.randn(256, 256)
    for _ in range(50):
        busy = busy @ busy / 256  # some CPU time to measure
    sample = sampler.sample(step=3, tokens_per_sec=2_000.0)
    assert isinstance(sample, SystemSample) and sample.step == 3
    assert sample.mfu == pytest.approx(2_000.0 * 14_784 / 1e9)
    assert 1 < sample.cpu_percent < 100 * (torch.get_num_threads() + 1)
    assert sample.rss_bytes > 10_000_000 and sample.cuda_reserved is None and sample.gpu_util is None


def test_the_peak_is_a_datasheet_value_for_known_gpus_and_measured_and_cached_otherwise(monkeypatch, tmp_path):
    assert known_gpu_peak("NVIDIA H200", torch.bfloat16) == 989e12
    assert known_gpu_peak("NVIDIA H100 PCIe", torch.bfloat16) == 756e12
    assert known_gpu_peak("NVIDIA H100 80GB HBM3", torch.float32) is None  # fp32 is measured
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path))
    calls = []
    import tui_transformer.train.peak as peak

    monkeypatch.setattr(peak, "measure_peak_flops", lambda device, dtype: calls.append(device) or 5e10)
    assert peak_flops("cpu", torch.float32) == 5e10 and peak_flops("cpu", torch.float32) == 5e10
    assert calls == ["cpu"], "measured once, then read from the cache"
    assert (tmp_path / "peak_flops.json").is_file()


def test_the_sampler_measures_the_peak_only_when_it_first_samples():
    asked = []
    sampler = SystemSampler("cpu", 100, lambda at_least: asked.append(at_least) or 1e9, interval_s=3600)
    assert not sampler.due() and asked == []
    sampler.sample(1, 10.0)
    sampler.sample(2, 10.0)
    assert asked == [1_000.0]


def test_a_run_faster_than_its_peak_asks_for_the_peak_again_and_never_reads_above_100_percent():
    asked = []
    sampler = SystemSampler("cpu", 100, lambda at_least: asked.append(at_least) or max(1e6, at_least), interval_s=3600)
    assert sampler.sample(1, 5_000.0).mfu == pytest.approx(0.5)
    assert sampler.sample(2, 20_000.0).mfu == pytest.approx(1.0)  # 2e6 FLOP/s achieved: the 1e6 peak was wrong
    assert asked == [500_000.0, 2_000_000.0]
    assert sampler.sample(3, 10_000.0).mfu == pytest.approx(0.5)


def test_a_cached_peak_below_an_achieved_rate_is_measured_again_and_raised(monkeypatch, tmp_path):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path))
    import tui_transformer.train.peak as peak

    monkeypatch.setattr(peak, "measure_peak_flops", lambda device, dtype: 4e10)  # measured while the cores were busy
    assert peak_flops("cpu", torch.float32) == 4e10
    assert peak_flops("cpu", torch.float32, at_least=3e10) == 4e10, "below the cached peak: nothing changes"
    monkeypatch.setattr(peak, "measure_peak_flops", lambda device, dtype: 9e10)  # the cores are free again
    assert peak_flops("cpu", torch.float32, at_least=7e10) == 9e10
    monkeypatch.setattr(peak, "measure_peak_flops", lambda device, dtype: 5e10)
    assert peak_flops("cpu", torch.float32, at_least=1e11) == 1e11, "never below what a step achieved"
    assert peak_flops("cpu", torch.float32) == 1e11, "and the cache keeps it"


def test_measuring_the_peak_leaves_the_training_random_stream_alone():
    # it runs in the middle of training; a moved global generator broke bitwise resume
    from tui_transformer.train.peak import measure_peak_flops

    before = torch.random.get_rng_state()
    measure_peak_flops("cpu", torch.float32, size=64, repeats=1)
    assert torch.equal(torch.random.get_rng_state(), before)

"""The memory check before training: a true lower bound, and a clear refusal of what cannot fit."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model import ModelConfig
from tui_transformer.train.memory import check_step_fits


MEASURE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import torch
    from tui_transformer.model import DecoderTransformer, ModelConfig
    from tui_transformer.train.head_loss import ChunkedHeadLoss
    from tui_transformer.train.memory import step_bytes_lower_bound

    def status(field):
        line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(field))
        return int(line.split()[1]) * 1024

    config = ModelConfig(vocab_size=4096, d_model=64, n_heads=4, n_layers=2, d_ff=256, max_seq_len=256,
                         attention=sys.argv[1])
    torch.manual_seed(0)
    model = DecoderTransformer(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, config.vocab_size, (8, config.max_seq_len + 1))
    before = status("VmRSS:")  # the model's weights are already in; the bound counts them, so add them back
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    ChunkedHeadLoss(model)(tokens[:, :-1], targets=tokens[:, 1:]).backward()  # the trainer's own loss path
    optimizer.step()
    used = status("VmHWM:") - before + 4 * model.num_parameters()
    print(json.dumps({"bound": step_bytes_lower_bound(config, batch_size=8), "used": used}))
""")


@pytest.mark.slow  # a subprocess that imports torch
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures the peak RSS through /proc")
@pytest.mark.parametrize("attention", ["explicit", "sdpa"])
def test_the_estimate_is_below_what_a_real_step_takes(attention):
    """Measured in a fresh process: one whose allocator keeps freed memory (the trainer's, and so this
    test process once a trainer test ran) would reuse pages and hide the step's growth."""
    out = subprocess.run([sys.executable, "-c", MEASURE, attention], capture_output=True, text=True, check=True,
                         timeout=120)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    bound, used = measured["bound"], measured["used"]
    assert bound <= used, f"the bound {bound:,} is above the measured {used:,}"
    assert bound >= 0.25 * used, f"the bound {bound:,} says little of the measured {used:,}"


def test_a_step_that_cannot_fit_is_refused_with_what_to_lower():
    config = ModelConfig(vocab_size=8192, d_model=128, n_heads=4, n_layers=4, d_ff=512, max_seq_len=128)
    with pytest.raises(ConfigError, match=r"1,000,000 x 128 tokens needs at least .* GB .*lower --batch-size"):
        check_step_fits(config, 1_000_000, torch.device("cpu"))
    check_step_fits(config, 8, torch.device("cpu"))  # the tiny preset's step fits anywhere

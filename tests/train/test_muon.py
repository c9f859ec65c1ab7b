"""Muon for the blocks' matrices, AdamW for the rest: the split, the learning, the state a resume needs."""

import threading

import pytest
import torch

from tui_transformer.errors import UserError
from tui_transformer.model import DecoderTransformer, ModelConfig
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import run_training
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import StepMetrics
from tui_transformer.train.optimizer import build_optimizer

MODEL = ModelConfig(vocab_size=50, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=16,
                    pos_encoding="learned", tie_weights=False)
MUON = TrainConfig(model=MODEL, optimizer="muon", lr=3e-3, muon_lr=0.02, weight_decay=0.1)


def make_model() -> DecoderTransformer:
    torch.manual_seed(0)
    return DecoderTransformer(MODEL)


def batch(seed: int = 1, rows: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randint(0, MODEL.vocab_size, (rows, MODEL.max_seq_len), generator=torch.Generator().manual_seed(seed))
    return x, torch.roll(x, -1, dims=1)


def test_muon_takes_the_blocks_matrices_and_adamw_the_rest():
    model = make_model()
    optimizer = build_optimizer(model, MUON, "cpu")
    names = {id(p): name for name, p in model.named_parameters()}
    muon = optimizer.optimizers["muon"]
    decay, no_decay = (sorted(names[id(p)] for p in group["params"]) for group in optimizer.optimizers["adamw"].param_groups)
    on_muon = sorted(names[id(p)] for group in muon.param_groups for p in group["params"])
    assert on_muon == sorted(f"blocks.{i}.{layer}.weight" for i in range(2)
                             for layer in ("attn.qkv", "attn.out", "ff.up", "ff.down"))
    assert decay == ["embed.weight", "lm_head.weight", "pos.weight"]  # lookups and the head: AdamW, decayed
    assert no_decay and all(model.get_parameter(name).dim() == 1 for name in no_decay)  # gains and biases
    assert len(on_muon) + len(decay) + len(no_decay) == len(names)  # every parameter, once
    assert optimizer.peak_lrs == {"muon": 0.02, "adamw": 3e-3}
    # Muon's decay shrinks a matrix per step by as much as AdamW's: lr * wd is the same product
    assert muon.param_groups[0]["weight_decay"] * 0.02 == pytest.approx(0.1 * 3e-3)
    assert muon.param_groups[0]["adjust_lr_fn"] == "original"


def test_adamw_alone_is_one_optimizer_over_everything():
    model = make_model()
    optimizer = build_optimizer(model, MUON.with_overrides(optimizer="adamw"), "cpu")
    assert list(optimizer.optimizers) == ["adamw"]
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))


def test_the_schedule_sets_each_optimizer_from_its_own_peak():
    optimizer = build_optimizer(make_model(), MUON, "cpu")
    assert optimizer.set_lrs(lambda peak: peak / 4) == {"muon": 0.005, "adamw": 7.5e-4}
    assert [g["lr"] for g in optimizer.optimizers["muon"].param_groups] == [0.005]
    assert {g["lr"] for g in optimizer.optimizers["adamw"].param_groups} == {7.5e-4}


def test_muon_lowers_the_loss():
    model = make_model()
    optimizer = build_optimizer(model, MUON, "cpu")
    x, y = batch()
    losses = []
    for _ in range(10):
        loss = model(x, targets=y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]  # from ln(50) = 3.9 to about 2.9 in ten steps
    assert all("momentum_buffer" in optimizer.optimizers["muon"].state[p]
               for p in optimizer.optimizers["muon"].param_groups[0]["params"])


def test_the_saved_state_continues_bit_for_bit(tmp_path):
    """Three steps, save, three more == three steps, load into a fresh model and optimizer, three more."""
    x, y = batch()

    def steps(model, optimizer, n):
        for _ in range(n):
            model(x, targets=y).backward()
            optimizer.step()
            optimizer.zero_grad()

    model = make_model()
    optimizer = build_optimizer(model, MUON, "cpu")
    steps(model, optimizer, 3)
    ckpt.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "muon.pt")
    saved = ckpt.load(tmp_path / "muon.pt")  # through the file: Muon's state loads with weights_only too
    steps(model, optimizer, 3)

    again = make_model()
    again.load_state_dict(saved["model"])
    restored = build_optimizer(again, MUON, "cpu")
    restored.load_state_dict(saved["optimizer"])
    steps(again, restored, 3)
    for name, weight in model.state_dict().items():
        assert torch.equal(weight, again.state_dict()[name]), name
    with pytest.raises(ValueError, match="holds the optimizers adamw, muon, not adamw"):
        build_optimizer(make_model(), MUON.with_overrides(optimizer="adamw"), "cpu").load_state_dict(saved["optimizer"])


@pytest.mark.slow  # trains and resumes a run in-process
def test_a_muon_run_resumes_bitwise_and_keeps_its_optimizer(tiny_config):
    config = tiny_config(max_steps=12, eval_interval=4, checkpoint_interval=5, optimizer="muon", schedule="wsd",
                         warmup_frac=0.1, warmdown_frac=0.5)
    straight = run_training(config.with_overrides(run_name="straight"))
    stop = threading.Event()
    first = run_training(config.with_overrides(run_name="split"), stop=stop,
                         on_event=lambda e: stop.set() if isinstance(e, StepMetrics) and e.step == 6 else None)
    assert first.step == 6
    with pytest.raises(UserError, match="trained with --optimizer muon.*resume it with --optimizer muon"):
        run_training(config.with_overrides(optimizer="adamw"), resume=first.run_dir)
    second = run_training(config, resume=first.run_dir)
    assert second.step == 12

    a, b = ckpt.load(ckpt.find(straight.run_dir)), ckpt.load(ckpt.find(second.run_dir))
    assert set(a["optimizer"]) == {"muon", "adamw"}
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    for part in ("muon", "adamw"):
        for key, state in a["optimizer"][part]["state"].items():
            for field, value in state.items():
                assert torch.equal(value, b["optimizer"][part]["state"][key][field]), (part, key, field)

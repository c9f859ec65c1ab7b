"""The inspection API: attention maps, residual stream, logit lens; nothing kept when it is off."""

import threading

import pytest
import torch

from tests.model.model_helpers import tiny_model
from tui_transformer.errors import ConfigError
from tui_transformer.model.tools.inspection import inspect

TOKENS = torch.tensor([[3, 14, 15, 9, 26, 5, 35, 8, 9, 7], [2, 7, 1, 8, 28, 18, 28, 45, 9, 0]])


@pytest.mark.parametrize("attention", ["explicit", "sdpa"])
def test_attention_rows_are_causal_distributions_of_the_right_shape(pos_encoding, attention):
    model = tiny_model(pos_encoding=pos_encoding, attention=attention)
    seen = inspect(model, TOKENS)
    assert len(seen.attention) == model.config.n_layers
    for weights in seen.attention:
        assert weights.shape == (2, 4, 10, 10)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 10), atol=1e-5)
        upper = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)
        assert torch.all(weights[..., upper] == 0)
        assert torch.all(weights[..., ~upper] > 0)
    assert [r.shape for r in seen.residual] == [(2, 10, 32)] * model.config.n_layers
    assert seen.embedded.shape == (2, 10, 32)
    assert seen.logits.shape == (2, 10, 61)


def test_logit_lens_at_the_last_layer_equals_the_logits():
    model = tiny_model()
    seen = inspect(model, TOKENS)
    last = model.config.n_layers - 1
    assert torch.allclose(seen.logit_lens(last), seen.logits, atol=1e-5)
    assert not torch.allclose(seen.logit_lens(0), seen.logits, atol=1e-3)
    probs, ids = seen.logit_lens_top(k=3)
    assert probs.shape == ids.shape == (model.config.n_layers, 2, 10, 3)
    assert torch.equal(ids[last, ..., 0], seen.logits.argmax(-1))


def test_residual_stream_is_what_the_blocks_produce():
    model = tiny_model()
    seen = inspect(model, TOKENS[:1])
    with torch.no_grad():
        x = seen.embedded
        for block, recorded in zip(model.blocks, seen.residual):
            x = block(x, mask=torch.ones(10, 10, dtype=torch.bool).tril())
            assert torch.allclose(x, recorded, atol=1e-5)


def test_with_inspection_off_outputs_are_identical_and_nothing_is_retained():
    model = tiny_model()
    model.train()
    with torch.no_grad():
        before = model.eval()(TOKENS)
    model.train()
    seen = inspect(model, TOKENS)
    assert model.training, "the previous mode is restored"
    model.eval()
    with torch.no_grad():
        after = model(TOKENS)
    assert torch.equal(before, after)
    assert torch.equal(seen.logits, after)
    assert len(seen.residual) == len(seen.attention) == model.config.n_layers, "later passes add nothing"
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def test_another_thread_running_the_same_model_does_not_mix_into_an_inspection():
    # the dashboard previews, generates and inspects one model from several worker threads at once
    model = tiny_model(attention="sdpa")
    alone = inspect(model, TOKENS[:1, :4])
    stop = threading.Event()

    def other_forwards() -> None:
        with torch.no_grad():
            while not stop.is_set():
                model(TOKENS)

    other = threading.Thread(target=other_forwards)
    other.start()
    try:
        for _ in range(30):
            seen = inspect(model, TOKENS[:1, :4])
            assert len(seen.attention) == len(seen.residual) == model.config.n_layers
            for mine, reference in zip(seen.attention + seen.residual, alone.attention + alone.residual):
                assert torch.allclose(mine, reference, atol=1e-6)
    finally:
        stop.set()
        other.join()


@pytest.mark.slow  # torch.compile traces the model
def test_the_hook_points_compile_without_breaking_the_graph():
    # fullgraph=True raises at the first graph break; the eager backend needs no C compiler
    model = tiny_model(attention="sdpa").eval()
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    with torch.no_grad():
        assert torch.allclose(compiled(TOKENS), model(TOKENS), atol=1e-5)


def test_inspect_accepts_a_list_and_rejects_bad_input():
    model = tiny_model(max_seq_len=8)
    assert inspect(model, [1, 2, 3]).attention[0].shape == (1, 4, 3, 3)
    with pytest.raises(ConfigError, match="at most max_seq_len"):
        inspect(model, list(range(9)))
    with pytest.raises(ConfigError, match="at least one token"):
        inspect(model, [])


def test_inspecting_a_fused_model_runs_the_fused_path(monkeypatch):
    # the weights are recomputed from q and k; the model itself never switches to the explicit path
    import tui_transformer.model.multi_head as multi_head

    def refuse(*args, **kwargs):
        raise AssertionError("the explicit path ran")

    monkeypatch.setattr(multi_head, "scaled_dot_product_attention", refuse)
    model = tiny_model(attention="sdpa")
    seen = inspect(model, TOKENS)
    monkeypatch.undo()
    reference = inspect(tiny_model(attention="explicit"), TOKENS)
    for fused, explicit in zip(seen.attention, reference.attention):
        assert torch.allclose(fused, explicit, atol=1e-6)

"""Hook points: named, per-thread reads and patches of the forward pass, identity when none is open."""

import threading

import pytest
import torch

from tests.model.model_helpers import tiny_model
from tui_transformer.errors import ConfigError
from tui_transformer.model.attention import causal_mask
from tui_transformer.model.tools.hooks import hook_names, hooks, run_with_cache

TOKENS = torch.tensor([[3, 14, 15, 9, 26, 5, 35, 8]])


def test_the_hook_points_are_named_as_transformer_lens_names_them():
    model = tiny_model(n_layers=2)
    per_layer = ["hook_resid_pre", "attn.hook_q", "attn.hook_k", "attn.hook_z", "hook_resid_mid", "hook_resid_post"]
    expected = {f"blocks.{layer}.{name}" for layer in range(2) for name in per_layer}
    assert set(hook_names(model)) == expected


@pytest.mark.parametrize("attention", ["explicit", "sdpa"])
def test_the_cached_tensors_are_what_the_modules_compute(attention):
    model = tiny_model(attention=attention)
    names = ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post",
             "blocks.1.hook_resid_pre", "blocks.0.attn.hook_q", "blocks.0.attn.hook_z"]
    with torch.no_grad():
        logits, seen = run_with_cache(model, TOKENS, names)
        assert torch.equal(logits, model(TOKENS)), "reading changes nothing"
        block = model.blocks[0]
        x = seen["blocks.0.hook_resid_pre"]
        assert torch.equal(x, model.drop(model.pos(model.embed(TOKENS), 0)) if model.pos is not None
                           else model.embed(TOKENS))
        mid = x + block.attn(block.ln1(x), 0, causal_mask(8, 8))
        assert torch.allclose(seen["blocks.0.hook_resid_mid"], mid, atol=1e-6)
        assert torch.allclose(seen["blocks.0.hook_resid_post"], mid + block.ff(block.ln2(mid)), atol=1e-6)
        assert torch.equal(seen["blocks.1.hook_resid_pre"], seen["blocks.0.hook_resid_post"])
    assert seen["blocks.0.attn.hook_q"].shape == (1, 4, 8, 8)  # [B, H, T, d_head]
    assert seen["blocks.0.attn.hook_z"].shape == (1, 4, 8, 8)


def test_a_hook_that_returns_a_tensor_patches_the_rest_of_the_pass():
    model = tiny_model()
    attn = model.blocks[1].attn

    def ablate_head_2(z):
        z = z.clone()
        z[:, 2] = 0
        return z

    with torch.no_grad():
        clean_logits, clean = run_with_cache(model, TOKENS, ["blocks.1.attn.hook_z", "blocks.1.hook_resid_mid"])
        with hooks(model, {"blocks.1.attn.hook_z": ablate_head_2}):
            ablated_logits, ablated = run_with_cache(model, TOKENS, ["blocks.1.hook_resid_mid"])
        after = model(TOKENS)
    # by hand: head 2 reaches the stream only through its d_head columns of the output projection
    head_2 = clean["blocks.1.attn.hook_z"][:, 2]  # [B, T, d_head]
    w_out = attn.out.weight[:, 2 * attn.d_head:3 * attn.d_head]  # [D, d_head]
    expected = clean["blocks.1.hook_resid_mid"] - head_2 @ w_out.T
    assert torch.allclose(ablated["blocks.1.hook_resid_mid"], expected, atol=1e-5)
    assert not torch.allclose(ablated_logits, clean_logits, atol=1e-4)
    assert torch.equal(after, clean_logits), "the patch ends with the with-block"


def test_an_unknown_hook_name_is_a_clear_error():
    model = tiny_model()
    with pytest.raises(ConfigError, match="no hook point called blocks.9.hook_resid_post"):
        with hooks(model, {"blocks.9.hook_resid_post": lambda x: None}):
            pass


def test_hooks_open_in_one_thread_do_not_fire_in_another():
    model = tiny_model()
    calls = []
    other_logits = []
    opened, done = threading.Event(), threading.Event()

    def other() -> None:
        opened.wait()
        with torch.no_grad():
            other_logits.append(model(TOKENS))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with torch.no_grad():
        clean = model(TOKENS)
        with hooks(model, {"blocks.0.hook_resid_post": lambda x: calls.append(1) or torch.zeros_like(x)}):
            opened.set()
            done.wait(10)
    thread.join()
    assert calls == [], "the other thread's pass called no hook of ours"
    assert torch.equal(other_logits[0], clean)

"""The modern recipe's model options: each alone and all together, with every positional encoding.

Each option must keep the model's own equalities (cache ≡ no cache, fused ≡ explicit), its hook points
and its parameter count, compute its formula, and train.
"""

import itertools
from dataclasses import replace
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.model.model_helpers import tiny_config, tiny_model
from tui_transformer.errors import ConfigError
from tui_transformer.model import DecoderTransformer, ModelConfig, count_parameters
from tui_transformer.model.attention import attention_weights
from tui_transformer.model.feedforward import FeedForward
from tui_transformer.model.rms_norm import RMSNorm
from tui_transformer.model.tools.flops import matmul_params
from tui_transformer.model.tools.hooks import run_with_cache
from tui_transformer.model.tools.inspection import inspect
from tui_transformer.train.head_loss import ChunkedHeadLoss

ALL_ON = dict(norm="rmsnorm", bias=False, qk_norm=True, activation="swiglu", zero_init_proj=True, logit_softcap=5.0)
OPTIONS = {
    "rmsnorm": dict(norm="rmsnorm"),
    "no_bias": dict(bias=False),
    "qk_norm": dict(qk_norm=True),
    "relu2": dict(activation="relu2"),
    "swiglu": dict(activation="swiglu"),
    "zero_init_proj": dict(zero_init_proj=True),
    "softcap": dict(logit_softcap=5.0),
    "all": ALL_ON,
}
TOKENS = torch.randint(0, 61, (2, 24), generator=torch.Generator().manual_seed(5))


def perturbed_model(seed: int = 0, **overrides) -> DecoderTransformer:
    """A tiny model whose every parameter (gains, zero-initialised projections too) is moved off its
    initial value, so that a piece computed wrongly or skipped changes the logits."""
    model = tiny_model(seed, **overrides)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    return model


@pytest.mark.parametrize("option", OPTIONS)
def test_cache_and_fused_attention_agree_with_the_plain_forward(option, pos_encoding):
    explicit = perturbed_model(pos_encoding=pos_encoding, **OPTIONS[option])
    fused = DecoderTransformer(replace(explicit.config, attention="sdpa")).eval()
    fused.load_state_dict(explicit.state_dict())
    with torch.no_grad():
        full = explicit(TOKENS)
        assert (fused(TOKENS) - full).abs().max().item() < 1e-4
        for model in (explicit, fused):
            cache = model.new_cache(2, 24)
            steps = [model(TOKENS[:, :10], cache=cache)[:, -1]]
            steps += [model(TOKENS[:, t : t + 1], cache=cache)[:, -1] for t in range(10, 24)]
            assert (torch.stack(steps, 1) - full[:, 9:]).abs().max().item() < 1e-4


@pytest.mark.parametrize("option", OPTIONS)
def test_a_few_steps_lower_the_loss(option):
    torch.manual_seed(0)
    model = DecoderTransformer(tiny_config(pos_encoding="rope", **OPTIONS[option]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    tokens = torch.randint(0, 61, (4, 17), generator=torch.Generator().manual_seed(2))
    losses = []
    for _ in range(15):
        loss = model(tokens[:, :-1], targets=tokens[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5, losses


@pytest.mark.parametrize("pos", ["sinusoidal", "rope", "alibi"])
def test_hook_q_and_k_are_the_normalised_vectors_the_scores_use(pos):
    model = perturbed_model(pos_encoding=pos, qk_norm=True)
    with torch.no_grad():
        model.blocks[0].attn.q_norm.weight.fill_(1.0)
        model.blocks[0].attn.k_norm.weight.fill_(1.0)
        _, seen = run_with_cache(model, TOKENS, ["blocks.0.hook_resid_pre", "blocks.0.attn.hook_q",
                                                 "blocks.0.attn.hook_k", "blocks.0.attn.hook_z"])
        q, k = seen["blocks.0.attn.hook_q"], seen["blocks.0.attn.hook_k"]
        for vectors in (q, k):  # unit gains: RMS 1 per head (RoPE keeps lengths; ε shaves a little)
            assert torch.allclose(vectors.pow(2).mean(-1), torch.ones(()), atol=2e-3)
        block = model.blocks[0]
        d = model.config.d_model
        v = block.attn.qkv(block.ln1(seen["blocks.0.hook_resid_pre"]))[..., 2 * d :]
        v = v.view(2, 24, 4, d // 4).transpose(1, 2)
        z = attention_weights(q, k, model.attention_mask(0, 24)) @ v
    assert torch.allclose(z, seen["blocks.0.attn.hook_z"], atol=1e-5)


@pytest.mark.parametrize(("norm", "bias", "qk_norm", "activation", "tie_weights"),
                         list(itertools.product(["layernorm", "rmsnorm"], [True, False], [False, True],
                                                ["gelu", "swiglu"], [True, False])))
def test_parameter_count_and_matmul_weights_match_the_closed_forms(norm, bias, qk_norm, activation, tie_weights):
    config = tiny_config(norm=norm, bias=bias, qk_norm=qk_norm, activation=activation, tie_weights=tie_weights,
                         pos_encoding="learned")
    model = DecoderTransformer(config)
    assert model.num_parameters() == count_parameters(config)
    linear_weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    assert matmul_params(config) == linear_weights + (config.vocab_size * config.d_model if tie_weights else 0)
    if bias:
        return
    assert not [name for name, _ in model.named_parameters() if name.endswith(".bias")]


def test_the_parameter_count_written_out_for_swiglu_rmsnorm_without_biases():
    config = tiny_config(norm="rmsnorm", bias=False, qk_norm=True, activation="swiglu", pos_encoding="rope")
    d, f, v, layers, d_head = 32, 64, 61, 2, 8
    per_block = 4 * d * d + 2 * d_head + 3 * d * f + 2 * d  # attention, q/k gains, three FFN matrices, two gains
    assert count_parameters(config) == DecoderTransformer(config).num_parameters() == \
        v * d + layers * per_block + d + v * d  # + final gain + untied head


def test_rmsnorm_is_the_formula():
    x = torch.randn(3, 5, 16, dtype=torch.float64)
    norm = RMSNorm(16).double()
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2.0)
    want = norm.weight * x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)
    assert torch.allclose(norm(x), want, atol=1e-12)
    assert torch.allclose(norm(x), F.rms_norm(x, (16,), norm.weight, eps=1e-5), atol=1e-12)


def test_relu2_and_swiglu_are_their_formulas():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64).view(-1, 1, 1)
    relu2 = FeedForward(1, 1, activation="relu2", bias=False).double()
    swiglu = FeedForward(1, 1, activation="swiglu", bias=False).double()
    with torch.no_grad():
        for ff in (relu2, swiglu):
            ff.up.weight.fill_(1.0), ff.down.weight.fill_(1.0)
        swiglu.gate.weight.fill_(2.0)
    assert torch.allclose(relu2(x), torch.clamp(x, min=0) ** 2, atol=1e-12)
    assert torch.allclose(swiglu(x), 2 * x * torch.sigmoid(2 * x) * x, atol=1e-12)


def test_zero_init_proj_starts_every_block_as_the_identity_and_training_moves_it():
    model = DecoderTransformer(tiny_config(zero_init_proj=True))
    for block in model.blocks:
        assert not block.attn.out.weight.any() and not block.ff.down.weight.any()
    with torch.no_grad():
        _, seen = run_with_cache(model, TOKENS, ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_post"])
    assert torch.equal(seen["blocks.0.hook_resid_pre"], seen["blocks.1.hook_resid_post"])
    model(TOKENS[:, :-1], targets=TOKENS[:, 1:]).backward()
    assert model.blocks[0].attn.out.weight.grad.abs().sum() > 0 and model.blocks[0].ff.down.weight.grad.abs().sum() > 0


def test_softcap_bounds_the_logits_and_is_c_tanh_of_the_plain_ones():
    capped = perturbed_model(logit_softcap=2.0)
    plain = DecoderTransformer(tiny_config(logit_softcap=0.0)).eval()
    plain.load_state_dict(capped.state_dict())
    with torch.no_grad():
        z = plain(TOKENS)
        assert z.abs().max() > 2.0  # the cap has something to do
        assert torch.allclose(capped(TOKENS), 2.0 * torch.tanh(z / 2.0), atol=1e-6)


def test_the_trainers_loss_equals_the_models_with_a_softcap():
    model = perturbed_model(logit_softcap=3.0).train()
    targets = TOKENS.roll(-1, dims=1)
    want = model(TOKENS, targets=targets)
    got = ChunkedHeadLoss(model)(TOKENS, targets)
    assert torch.allclose(got, want)


@pytest.mark.parametrize("pos", ["learned", "rope"])
def test_the_logit_lens_of_the_last_layer_is_the_models_output(pos):
    model = perturbed_model(pos_encoding=pos, **ALL_ON)
    seen = inspect(model, TOKENS)
    assert torch.allclose(seen.logit_lens(model.config.n_layers - 1), seen.logits, atol=1e-5)


def test_an_old_config_without_the_new_keys_loads_as_before_and_unknown_keys_still_fail():
    old = {k: v for k, v in ModelConfig().to_dict().items() if k not in ALL_ON}
    config = ModelConfig.from_dict(old)
    assert (config.norm, config.bias, config.qk_norm, config.zero_init_proj, config.logit_softcap) == \
        ("layernorm", True, False, False, 0.0)
    with pytest.raises(ConfigError, match="unknown model setting"):
        ModelConfig.from_dict(old | {"normalisation": "rmsnorm"})


@pytest.mark.parametrize(("field", "value", "message"), [
    ("norm", "batchnorm", "norm must be one of layernorm, rmsnorm"),
    ("bias", "no", "bias must be true or false"),
    ("qk_norm", 1, "qk_norm must be true or false"),
    ("logit_softcap", -1.0, "logit_softcap must be 0"),
    ("logit_softcap", math.inf, "logit_softcap must be 0"),
    ("activation", "relu", "activation must be one of gelu, gelu_tanh, relu2, swiglu"),
])
def test_bad_option_values_are_one_line_config_errors(field, value, message):
    with pytest.raises(ConfigError, match=message) as caught:
        ModelConfig(**{field: value})
    assert "\n" not in str(caught.value)

"""The explicit attention against PyTorch's own implementations, used here only as oracles."""

import torch
import torch.nn.functional as F
from torch import nn

from tests.model.model_helpers import tiny_model
from tui_transformer.model.attention import causal_mask, fused_attention, scaled_dot_product_attention
from tui_transformer.model.multi_head import MultiHeadAttention


def _qkv(batch=2, heads=3, n_tokens=9, d_head=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, heads, n_tokens, d_head, generator=g) for _ in range(3)]


def test_explicit_attention_equals_torch_sdpa_with_is_causal():
    q, k, v = _qkv()
    ours, weights = scaled_dot_product_attention(q, k, v, causal_mask(9, 9))
    reference = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert (ours - reference).abs().max().item() < 1e-5
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 9))
    assert weights[..., 0, 1:].abs().max() == 0, "the first token sees only itself"


def test_causal_mask_for_queries_after_cached_keys():
    # 2 new queries at positions 3 and 4 over 5 keys: they see keys 0..3 and 0..4.
    expected = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(causal_mask(2, 5), expected)
    assert causal_mask(1, 5) is None, "a single decoded token sees every key"


def test_fused_path_equals_explicit_path_on_a_cache_suffix():
    q, k, v = _qkv(n_tokens=9)
    mask = causal_mask(4, 9)
    ours, _ = scaled_dot_product_attention(q[..., 5:, :], k, v, mask)
    fused = fused_attention(q[..., 5:, :], k, v, mask)
    assert (ours - fused).abs().max().item() < 1e-5


def test_multi_head_attention_matches_nn_multihead_attention_with_copied_weights():
    torch.manual_seed(0)
    d_model, n_heads, n_tokens = 32, 4, 11
    ours = MultiHeadAttention(d_model, n_heads).eval()
    oracle = nn.MultiheadAttention(d_model, n_heads, batch_first=True).eval()
    with torch.no_grad():
        oracle.in_proj_weight.copy_(ours.qkv.weight)
        oracle.in_proj_bias.copy_(ours.qkv.bias)
        oracle.out_proj.weight.copy_(ours.out.weight)
        oracle.out_proj.bias.copy_(ours.out.bias)
        x = torch.randn(3, n_tokens, d_model)
        mine = ours(x, mask=causal_mask(n_tokens, n_tokens))
        # nn.MultiheadAttention's boolean mask marks the positions that may NOT be attended.
        theirs, _ = oracle(x, x, x, attn_mask=~causal_mask(n_tokens, n_tokens), need_weights=False)
    assert (mine - theirs).abs().max().item() < 1e-5


def test_sdpa_model_equals_explicit_model(pos_encoding):
    explicit = tiny_model(pos_encoding=pos_encoding)
    fused = tiny_model(pos_encoding=pos_encoding, attention="sdpa")
    fused.load_state_dict(explicit.state_dict())
    tokens = torch.randint(0, 61, (2, 30), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert (explicit(tokens) - fused(tokens)).abs().max().item() < 1e-4
        caches = [m.new_cache(2, 30) for m in (explicit, fused)]
        explicit(tokens[:, :20], cache=caches[0])
        fused(tokens[:, :20], cache=caches[1])
        step_explicit = explicit(tokens[:, 20:21], cache=caches[0])
        step_fused = fused(tokens[:, 20:21], cache=caches[1])
    assert (step_explicit - step_fused).abs().max().item() < 1e-4


def test_attention_dropout_acts_only_in_training():
    torch.manual_seed(0)
    attn = MultiHeadAttention(16, 2, dropout=0.5)
    x = torch.randn(1, 6, 16)
    mask = causal_mask(6, 6)
    attn.eval()
    assert torch.equal(attn(x, mask=mask), attn(x, mask=mask))
    attn.train()
    assert not torch.equal(attn(x, mask=mask), attn(x, mask=mask))


def test_no_prebuilt_transformer_modules_in_the_model(pos_encoding):
    prebuilt = (nn.MultiheadAttention, nn.Transformer, nn.TransformerEncoder, nn.TransformerDecoder,
                nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)
    model = tiny_model(pos_encoding=pos_encoding)
    assert not [name for name, module in model.named_modules() if isinstance(module, prebuilt)]

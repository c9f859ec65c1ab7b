"""The decode benchmark: cached greedy generation against a lean loop, and against the memory wall.

For each batch size (default 1 and 8) the same weights generate the same greedy tokens three ways:

* ``ours``: :func:`tui_transformer.model.generate` with the KV cache, the path the Playground and
  ``generate`` run (the sampler, the window logic and the hook points included);
* ``lean``: a minimal preallocated-cache loop written against the same weights in ~30 lines, in the
  style of nanochat's engine: the yardstick for how little per-token overhead eager PyTorch allows;
* ``hf``: Hugging Face ``GPT2LMHeadModel.generate`` on a GPT-2 of the same shape, when
  ``transformers`` is installed (``uv sync --extra hf``); skipped otherwise.

Reported per (batch, variant): decode tokens/s (the prefill excluded), the time to first token for
the prompt (default 512 tokens: the prefill and one sampling), and at batch 1 the **model bandwidth
utilisation**. A decode step at batch 1 must read every weight once, plus the cached keys and values,
so its speed is bounded by memory bandwidth, not arithmetic::

    bytes per step = weight bytes + 2 · L · H · t · d_head · 4     (t: the position, averaged)
    MBU            = bytes per step · steps/s / bandwidth          (bandwidth measured in this run)

The bandwidth is the best rate of copying a 256 MB tensor (bytes read plus bytes written per second).
``ours`` and ``lean`` must choose the same tokens (``tokens_match``), or the speeds mean nothing.
The positional encoding is ``learned``, the one the lean loop and GPT-2 share.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time

import torch
import torch.nn.functional as F

from tui_transformer.model import DecoderTransformer, ModelConfig, generate
from tui_transformer.model.kv_cache import kv_cache_bytes
from tui_transformer.model.transformer import count_parameters
from tui_transformer.train.peak import synchronize

VARIANTS = ("ours", "lean", "hf")
COPY_BYTES = 256 * 2**20


def run_decode_bench(model_config: ModelConfig, batch_sizes=(1, 8), new_tokens: int = 128, prompt_len: int = 512,
                     rounds: int = 3, device: str = "cpu", compile: bool = False) -> dict:
    """Measure every variant ``rounds`` times, alternating, and keep each one's median (see above).

    ``compile`` adds ``ours-compiled``: ``generate`` on ``torch.compile(model, dynamic=True)``, compiled
    before the timing starts (``compile_s``: the warm-up generations that compile it, for every batch size).
    """
    config = decode_config(model_config, prompt_len, new_tokens)
    torch.manual_seed(0)
    model = DecoderTransformer(config).to(device).eval()
    modules = {"ours": model, "lean": model, "hf": _hf_twin(model)}
    bandwidth = measure_bandwidth(device)
    prompts = {batch: torch.randint(0, config.vocab_size, (batch, prompt_len), device=device,
                                    generator=torch.Generator(device=device).manual_seed(batch))
               for batch in batch_sizes}
    compile_s = None
    if compile:
        modules["ours-compiled"] = torch.compile(model, dynamic=True)
        started = time.perf_counter()
        for prompt in prompts.values():  # the prefill's graph and the decode step's, at each batch size
            time_variant("ours-compiled", modules["ours-compiled"], prompt, 4, device)
        compile_s = round(time.perf_counter() - started, 1)
    rows = []
    for batch, prompt in prompts.items():
        runs = {variant: [] for variant in (*VARIANTS, "ours-compiled") if modules.get(variant) is not None}
        outputs = {}
        for _ in range(rounds):
            for variant in runs:
                tokens, ttft, decode_s = time_variant(variant, modules[variant], prompt, new_tokens, device)
                runs[variant].append((ttft, decode_s))
                outputs[variant] = tokens
        for variant, times in runs.items():
            ttft = statistics.median(t for t, _ in times)
            decode_s = statistics.median(d for _, d in times)
            steps_per_s = (new_tokens - 1) / decode_s
            row = {"batch": batch, "variant": variant, "tokens_per_s": round(steps_per_s * batch, 1),
                   "ttft_ms": round(ttft * 1e3, 2)}
            if batch == 1:
                row["mbu"] = round(step_bytes(config, prompt_len + new_tokens / 2) * steps_per_s / bandwidth, 4)
            rows.append(row)
        rows_for_batch = [r for r in rows if r["batch"] == batch]
        ours = next(r for r in rows_for_batch if r["variant"] == "ours")
        for row in rows_for_batch:
            row["vs_ours"] = round(row["tokens_per_s"] / ours["tokens_per_s"], 3)
        for row in rows_for_batch:  # HF's twin has weights of its own: its tokens are not comparable
            row["tokens_match"] = None if row["variant"] == "hf" else torch.equal(outputs[row["variant"]],
                                                                                   outputs["lean"])
    return {"bench": "decode", "config": dataclasses.asdict(config), "new_tokens": new_tokens,
            "prompt_len": prompt_len, "rounds": rounds, "device": device, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "bandwidth_gb_s": round(bandwidth / 1e9, 2),
            "weight_bytes": weight_bytes(model), "hf": modules["hf"] is not None, "compile_s": compile_s,
            "rows": rows}


def decode_config(model_config: ModelConfig, prompt_len: int, new_tokens: int) -> ModelConfig:
    """The shape decoded: GPT-2's block (learned positions, LayerNorm with biases, GELU: what the lean loop and
    GPT-2 share), room for the whole text."""
    return dataclasses.replace(model_config, pos_encoding="learned", attention="sdpa", norm="layernorm", bias=True,
                               qk_norm=False, activation="gelu", logit_softcap=0.0,
                               max_seq_len=max(model_config.max_seq_len, prompt_len + new_tokens))


def weight_bytes(model: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def step_bytes(config: ModelConfig, position: float) -> float:
    """What one batch-1 decode step reads: every weight, and the cached K and V up to ``position``."""
    return 4 * count_parameters(config) + kv_cache_bytes(config, position)


def measure_bandwidth(device: str, repeats: int = 5) -> float:
    """Bytes per second read plus written by copying a ``COPY_BYTES`` tensor (best of ``repeats``)."""
    source = torch.empty(COPY_BYTES // 4, dtype=torch.float32, device=device).fill_(1.0)
    target = torch.empty_like(source)
    target.copy_(source)  # warm up: pages faulted in
    best = math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        target.copy_(source)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * COPY_BYTES / best


def time_variant(variant: str, module, prompt: torch.Tensor, new_tokens: int, device: str):
    """``(tokens [B, new_tokens], time to first token, decode seconds for the rest)`` of ``variant``
    decoding with ``module`` (our model, its compiled wrapper, or HF's twin)."""
    decode = {"ours": _ours, "ours-compiled": _ours, "lean": _lean, "hf": _hf}[variant]
    stamps = []
    tokens = decode(module, prompt, new_tokens, lambda: (synchronize(device), stamps.append(time.perf_counter())))
    return tokens, stamps[1] - stamps[0], stamps[-1] - stamps[1]


def _ours(model, prompt, new_tokens, tick):
    tick()
    out = []
    for token in generate(model, prompt, new_tokens):
        out.append(token)
        if len(out) == 1:
            tick()
    tick()
    return torch.stack(out, dim=1)


@torch.inference_mode()
def _lean(model, prompt, new_tokens, tick):
    """Greedy decode with a preallocated cache, straight from the weights (learned positions, sdpa)."""
    c = model.config
    batch, length = prompt.shape
    total, heads, d_head = length + new_tokens, c.n_heads, c.d_head
    keys = torch.zeros(c.n_layers, batch, heads, total, d_head, device=prompt.device)
    values = torch.zeros_like(keys)
    head = model.embed.weight if model.lm_head is None else model.lm_head.weight
    tick()
    tokens, position, out = prompt, 0, []
    for _ in range(new_tokens):
        n = tokens.shape[1]
        x = model.embed.weight[tokens] + model.pos.weight[position:position + n]
        for layer, block in enumerate(model.blocks):
            h = F.layer_norm(x, (c.d_model,), block.ln1.weight, block.ln1.bias)
            q, k, v = F.linear(h, block.attn.qkv.weight, block.attn.qkv.bias).view(batch, n, 3, heads, d_head) \
                .permute(2, 0, 3, 1, 4)
            keys[layer, :, :, position:position + n] = k
            values[layer, :, :, position:position + n] = v
            y = F.scaled_dot_product_attention(q, keys[layer, :, :, :position + n], values[layer, :, :, :position + n],
                                               is_causal=n > 1)
            x = x + F.linear(y.transpose(1, 2).reshape(batch, n, c.d_model), block.attn.out.weight, block.attn.out.bias)
            h = F.layer_norm(x, (c.d_model,), block.ln2.weight, block.ln2.bias)
            x = x + F.linear(F.gelu(F.linear(h, block.ff.up.weight, block.ff.up.bias)), block.ff.down.weight,
                             block.ff.down.bias)
        x = F.layer_norm(x[:, -1], (c.d_model,), model.ln_f.weight, model.ln_f.bias)
        tokens = F.linear(x, head).argmax(-1, keepdim=True)
        position += n
        out.append(tokens)
        if len(out) == 1:
            tick()
    tick()
    return torch.cat(out, dim=1)


def _hf_twin(model):
    """A GPT2LMHeadModel of the same shape (random weights: speed does not depend on them), or None."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        return None
    c = model.config
    config = GPT2Config(vocab_size=c.vocab_size, n_positions=c.max_seq_len, n_embd=c.d_model, n_layer=c.n_layers,
                        n_head=c.n_heads, n_inner=c.d_ff, activation_function="gelu", resid_pdrop=0.0,
                        embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=c.tie_weights,
                        attn_implementation="sdpa",
                        bos_token_id=None, eos_token_id=None)  # GPT-2's 50256 lies outside a small vocabulary
    return GPT2LMHeadModel(config).to(model.embed.weight.device).eval()


@torch.inference_mode()
def _hf(model, prompt, new_tokens, tick):
    from transformers import LogitsProcessor, LogitsProcessorList

    class FirstToken(LogitsProcessor):  # called once per step, before the token is chosen
        calls = 0

        def __call__(self, input_ids, scores):
            FirstToken.calls += 1
            if FirstToken.calls == 2:  # the first token is chosen: the prefill and one sampling are done
                tick()
            return scores

    tick()
    output = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens,
                            min_new_tokens=new_tokens, do_sample=False, use_cache=True, pad_token_id=0,
                            logits_processor=LogitsProcessorList([FirstToken()]))
    tick()
    return output[:, prompt.shape[1]:]

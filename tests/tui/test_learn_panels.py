"""The Learn panels without the app: every page's numbers against the model, and the parts they draw with.

The numbers a page shows are checked against values this file works out on its own: parameter
counts and shapes from the model's own parameters, and activations from :func:`reference_forward`,
the forward pass written out again from the state dict in float64. The model is the tiny one with
its attention and embeddings sharpened (:func:`sharp`), so that attention is not uniform and the
logit lens not a near-tie, and a wrong number cannot pass by luck.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from tests.tui.helpers import RECORDED, plain
from tui_transformer.model import DecoderTransformer
from tui_transformer.train.events import EvalResult, StepMetrics, event_from_json
from tui_transformer.tui.learn.context import LiveContext
from tui_transformer.tui.learn.registry import PAGES
from tui_transformer.tui.learn.style import human_bytes, shown
from tui_transformer.tui.learn.training import training_summary
from tui_transformer.tui.widgets.attention_map import attention_grid
from tui_transformer.tui.widgets.heatmap import NEGATIVE, POSITIVE, heatmap, value_color

PROMPT = "The cat sat on the mat. The cat"
WIDE = 220  # columns: no table cell is cut or wrapped


@pytest.fixture(scope="module")
def sharp(tiny):
    """The tiny model (a copy) with W_qkv x 8 and E x 25: peaked attention and confident predictions."""
    model, tokenizer = tiny
    sharpened = DecoderTransformer(model.config).eval()
    sharpened.load_state_dict(model.state_dict())
    with torch.no_grad():
        for name, parameter in sharpened.named_parameters():
            if name.endswith("attn.qkv.weight"):
                parameter.mul_(8.0)
        sharpened.embed.weight.mul_(25.0)
    return sharpened, tokenizer


def reference_forward(model, ids: list[int]) -> dict:
    """The forward pass of a sinusoidal, tied, pre-LN model, from its state dict alone, in float64.

    Returns the stream after the embeddings ``[T, D]``, after each block, each layer's attention
    weights ``[H, T, T]``, and the logits ``[T, V]``.
    """
    w = {name: tensor.double() for name, tensor in model.state_dict().items()}
    cfg = model.config
    T, D, H = len(ids), cfg.d_model, cfg.n_heads
    angles = torch.arange(T, dtype=torch.float64)[:, None] / 10000 ** (torch.arange(0, D, 2) / D)
    x = w["embed.weight"][ids] + torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(T, D)  # sin at 2i, cos at 2i+1

    def norm(x, prefix):
        return F.layer_norm(x, (D,), w[f"{prefix}.weight"], w[f"{prefix}.bias"])

    def linear(x, prefix):
        return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]

    result = {"embedded": x, "residual": [], "attention": []}
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    for layer in range(cfg.n_layers):
        block = f"blocks.{layer}"
        q, k, v = (part.reshape(T, H, D // H).transpose(0, 1) for part in linear(norm(x, f"{block}.ln1"), f"{block}.attn.qkv").split(D, -1))
        weights = (q @ k.transpose(1, 2) / math.sqrt(D // H)).masked_fill(future, -math.inf).softmax(-1)
        x = x + linear((weights @ v).transpose(0, 1).reshape(T, D), f"{block}.attn.out")
        x = x + linear(F.gelu(linear(norm(x, f"{block}.ln2"), f"{block}.ff.up")), f"{block}.ff.down")
        result["residual"].append(x)
        result["attention"].append(weights)
    result["logits"] = norm(x, "ln_f") @ w["embed.weight"].T
    return result


def live(title: str, model, tokenizer, **choices):
    page = next(page for page in PAGES if page.title == title)
    return page.live(LiveContext(model, tokenizer, PROMPT, **choices))


def cells(text: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in text.splitlines():
        row = [cell.strip() for cell in line.split("│")[1:-1]]
        if row and row[0] == first:
            return row
    raise AssertionError(f"no row {first!r} in\n{text}")


def parameters(model, prefix: str) -> list[torch.Tensor]:
    return [p for name, p in model.named_parameters() if name.startswith(prefix + ".")]


def shapes(tensors) -> str:
    return "  ".join("×".join(str(n) for n in tensor.shape) for tensor in tensors)


def test_training_summary_reads_the_recorded_run(recorded_run):
    rows = dict(training_summary(recorded_run))
    events = [event_from_json(line) for line in RECORDED.read_text().splitlines() if line.strip()]
    steps = [e for e in events if isinstance(e, StepMetrics)]
    last_eval = [e for e in events if isinstance(e, EvalResult)][-1]
    assert rows["steps"] == f"{steps[-1].step:,}"
    assert rows["train loss"].startswith(f"{steps[0].loss:.3f} at step {steps[0].step} → {steps[-1].loss:.3f}")
    best = min(steps, key=lambda e: e.loss)
    assert f"best {best.loss:.3f} at step {best.step}" in rows["train loss"]
    assert rows["val loss"].startswith(f"{last_eval.val_loss:.3f} at step {last_eval.step}")
    assert "tokens per optimizer step" in rows["batch"] and "cosine" in rows["schedule"]


def test_training_summary_without_metrics_says_so(tmp_path):
    assert training_summary(tmp_path)[0][1].startswith("none yet")


def test_heatmap_packs_two_rows_a_line_and_colours_by_sign():
    rows = [[1.0, -1.0], [0.0, 0.5], [-0.5, 0.25]]
    text = heatmap(rows, row_label="p")
    assert len(text.plain.splitlines()) == 2  # three rows -> two lines of half-blocks
    assert value_color(1.0, 1.0).get_truecolor() == POSITIVE
    assert value_color(-2.0, 2.0).get_truecolor() == NEGATIVE
    top_left = text.spans[1].style  # after the margin: row 0 above row 1 in column 0
    assert top_left.color.get_truecolor() == POSITIVE and top_left.bgcolor == value_color(0.0, 1.0)


def test_every_page_survives_an_empty_prompt_and_markup_in_tokens(tiny):
    model, tokenizer = tiny
    for page in PAGES:
        text = plain(page.live(LiveContext(model, tokenizer, "")))
        assert text.strip(), page.title
        # token text is shown as text: "[/b]" alone would be a rich markup error
        text = plain(page.live(LiveContext(model, tokenizer, "[/b] [b]bold")))
        assert text.strip(), page.title
    assert "[/" in plain(PAGES[0].live(LiveContext(model, tokenizer, "[/b] [b]bold")))


def test_bpe_merges_replay_ends_in_the_tokenizers_own_tokens(tiny):
    from tui_transformer.tui.learn.tokenization import bpe_merges, longest_word

    _, tokenizer = tiny
    ranks = tokenizer.encoding._mergeable_ranks
    for word in (" unbelievably", " tokenization", "Hello", " ünïcödé", " 12345"):
        steps = bpe_merges(ranks, word.encode())
        assert steps[0] == [bytes([b]) for b in word.encode()]
        assert all(len(after) == len(before) - 1 for before, after in zip(steps, steps[1:]))  # one merge a step
        assert steps[-1] == [tokenizer.encoding.decode_single_token_bytes(i) for i in tokenizer.encode(word)]
    assert longest_word(tokenizer.encoding, "The cat sat, unbelievably.") == b" unbelievably"


# ---- each page's numbers against the model ---------------------------------------------------------

def test_tokenization_page_counts_the_tokenizers_own_tokens(sharp):
    model, tokenizer = sharp
    ids = tokenizer.encode(PROMPT)
    lines = plain(live("Tokenization", model, tokenizer), width=WIDE).splitlines()
    at = lines.index(f"{tokenizer.name}: {len(ids)} tokens (token text, then its id)")
    assert lines[at + 1].rstrip() == " ".join(shown(tokenizer.decode([i])) + str(i) for i in ids)
    text = "\n".join(lines)
    assert cells(text, f"{tokenizer.name} (this model)") == [
        f"{tokenizer.name} (this model)", f"{model.config.vocab_size:,}", str(len(ids)), f"{len(PROMPT) / len(ids):.2f}"]


def test_embeddings_page_shows_each_rows_norm_and_cosine_neighbours(sharp):
    model, tokenizer = sharp
    E = model.state_dict()["embed.weight"].double()
    text = plain(live("Token embeddings", model, tokenizer), width=WIDE)
    assert f"E: [{E.shape[0]:,} × {E.shape[1]}]" in text
    for token_id in dict.fromkeys(tokenizer.encode(PROMPT)):
        piece = shown(tokenizer.decode([token_id]))
        row = cells(text, piece)
        cosine = E @ E[token_id] / (E.norm(dim=1) * E[token_id].norm())
        cosine[token_id] = -2.0  # not its own neighbour
        top = cosine.topk(5)
        near = "  ".join(f"{shown(tokenizer.decode([n]))} {c:.2f}" for n, c in zip(top.indices.tolist(), top.values.tolist()))
        assert row[1:] == [str(token_id), f"{E[token_id].norm():.2f}", near], piece


def test_positional_page_draws_the_sinusoid_table(sharp):
    model, tokenizer = sharp
    D = model.config.d_model
    group = live("Positional encoding", model, tokenizer)
    _uses, title, drawn = group.renderables[:3]
    assert title.plain == f"sinusoidal: PE[p, d] added to the embeddings, positions 0..31 × {D} columns"
    p, two_i = torch.arange(32, dtype=torch.float64)[:, None], torch.arange(0, D, 2)
    table = torch.zeros(32, D, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = (p / 10000 ** (two_i / D)).sin(), (p / 10000 ** (two_i / D)).cos()
    expected = heatmap(table.float().tolist(), row_label="p", cell_width=2)
    fitted = drawn.at_width(2 * D + 5)  # room for the margin "  p0 " and two characters a column
    assert fitted.plain == expected.plain and fitted.spans == expected.spans


@pytest.mark.parametrize("width", [88, 48])
def test_the_positional_heatmap_fits_its_panel_instead_of_wrapping(width):
    # At 120x40 a d128 model's heatmap was wider than the panel, so every row wrapped onto two lines.
    from tui_transformer.data import get_tokenizer
    from tui_transformer.model import DecoderTransformer, ModelConfig

    tokenizer = get_tokenizer("cl100k_base")
    model = DecoderTransformer(ModelConfig(vocab_size=tokenizer.vocab_size, d_model=128, n_heads=2, n_layers=1,
                                           d_ff=64, max_seq_len=64, pos_encoding="sinusoidal")).eval()
    lines = plain(live("Positional encoding", model, tokenizer), width=width).splitlines()
    drawn = [line for line in lines if "▀" in line]
    assert len(drawn) == 16  # 32 positions, two a line: no row wrapped
    assert all(len(line.rstrip()) <= width for line in lines)
    assert any(line.startswith(f"columns 0..{width - 6} of 128 shown") for line in lines)  # the margin takes 5


@pytest.mark.parametrize("layer, head", [(0, 0), (1, 1)])
def test_attention_page_shows_the_heads_softmax_weights(sharp, layer, head):
    model, tokenizer = sharp
    cfg, ids = model.config, tokenizer.encode(PROMPT)
    weights = reference_forward(model, ids)["attention"][layer][head]
    lines = plain(live("Attention", model, tokenizer, layer=layer, head=head), width=WIDE).splitlines()
    assert lines[0] == (f"layer {layer + 1}/{cfg.n_layers} · head {head + 1}/{cfg.n_heads} · "
                        f"Q, K [1, {cfg.n_heads}, {len(ids)}, {cfg.d_model // cfg.n_heads}] → weights [{len(ids)} × {len(ids)}]")
    assert len(set(weights[-1].round(decimals=2).tolist())) > 2  # sharpened: the last row is not uniform
    for i in range(len(ids)):
        row = lines[2 + i].split()
        assert row[2:] == [str(round(weights[i, j].item() * 100)) for j in range(i + 1)] + ["·"] * (len(ids) - 1 - i)


def test_multi_head_page_shows_every_head_of_the_layer(sharp):
    model, tokenizer = sharp
    cfg, ids = model.config, tokenizer.encode(PROMPT)
    attention = reference_forward(model, ids)["attention"][1]
    title, heads = live("Multi-head attention", model, tokenizer, layer=1).renderables[:2]
    d_head = cfg.d_model // cfg.n_heads
    assert title.plain.startswith(f"layer 2/2: {cfg.n_heads} heads of d_head = {cfg.d_model} / {cfg.n_heads} = {d_head}. "
                                  f"x [1, T, {cfg.d_model}] → q, k, v [1, {cfg.n_heads}, T, {d_head}]")
    pieces = [tokenizer.decode([i]) for i in ids]
    assert len(heads.renderables) == cfg.n_heads
    for head, shown_head in enumerate(heads.renderables):
        label, grid = shown_head.renderables
        assert label.plain == f"head {head + 1}"
        assert plain(grid) == plain(attention_grid(attention[head].tolist(), pieces, max_tokens=8))


def test_feedforward_page_counts_the_ffn_parameters(sharp):
    model, tokenizer = sharp
    D, F_, L = model.config.d_model, model.config.d_ff, model.config.n_layers
    total = sum(p.numel() for p in model.parameters())
    ff = parameters(model, "blocks.0.ff")
    count = sum(p.numel() for p in ff)
    assert count == 2 * D * F_ + F_ + D  # W_up, W_down and their biases
    text = plain(live("Feed-forward", model, tokenizer), width=WIDE)
    assert cells(text, "blocks.0.ff") == ["blocks.0.ff", shapes(ff), f"{count:,}", f"{count / total:.1%}"]
    assert cells(text, "total") == ["total", "", f"{total:,}", "100.0%"]
    every_ffn = sum(p.numel() for layer in range(L) for p in parameters(model, f"blocks.{layer}.ff"))
    assert f"all {L} feed-forward networks: {L} × {count:,} = {every_ffn:,} parameters" in text


def test_block_page_counts_every_component_and_the_streams_length(sharp):
    model, tokenizer = sharp
    D, F_ = model.config.d_model, model.config.d_ff
    total = sum(p.numel() for p in model.parameters())
    text = plain(live("The block", model, tokenizer), width=WIDE)
    by_hand = {"embed": model.config.vocab_size * D, "blocks.0.ln1": 2 * D, "blocks.0.attn": 4 * D * D + 4 * D,
               "blocks.0.ln2": 2 * D, "blocks.0.ff": 2 * D * F_ + F_ + D, "ln_f": 2 * D}
    for component, count in by_hand.items():
        own = parameters(model, component)
        assert sum(p.numel() for p in own) == count, component
        assert cells(text, component) == [component, shapes(own), f"{count:,}", f"{count / total:.1%}"]
    assert cells(text, "total") == ["total", "", f"{total:,}", "100.0%"]
    assert "blocks.1.attn" not in text  # one block shown, the others are alike
    forward = reference_forward(model, tokenizer.encode(PROMPT))
    streams = [("embed + pos", forward["embedded"])] + [(f"block {i}", x) for i, x in enumerate(forward["residual"])]
    for name, stream in streams:
        line = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert line[13:20].strip() == f"{stream.norm(dim=-1).mean():.2f}", name


def test_training_page_reads_the_logit_lens_of_every_layer(sharp):
    model, tokenizer = sharp
    ids = tokenizer.encode(PROMPT)
    forward = reference_forward(model, ids)
    w = {name: tensor.double() for name, tensor in model.state_dict().items()}
    text = plain(live("Model and training", model, tokenizer), width=WIDE)
    assert cells(text, "run")[1].startswith("none: this model is untrained")
    first = len(ids) - 8  # the last eight positions
    for layer, stream in enumerate(forward["residual"]):
        lens = F.layer_norm(stream, (model.config.d_model,), w["ln_f.weight"], w["ln_f.bias"]) @ w["embed.weight"].T
        probs, best = lens.softmax(-1).max(-1)
        expected = [f"{shown(tokenizer.decode([t]))} " + (f"{p:.0%}" if p >= 0.01 else "<1%")
                    for t, p in zip(best.tolist()[first:], probs.tolist()[first:])]
        assert cells(text, f"layer {layer + 1}")[1:] == expected
    assert torch.equal(best, forward["logits"].argmax(-1))  # the last layer's lens is the model's prediction
    assert max(probs.tolist()) >= 0.01  # sharpened: some predictions are confident enough to show


def test_kv_cache_page_measures_the_real_caches_bytes(sharp):
    model, tokenizer = sharp
    cfg, ids = model.config, tokenizer.encode(PROMPT)
    cache = model.new_cache(batch_size=1)
    per_position = (cache.keys.nbytes + cache.values.nbytes) // cfg.max_seq_len
    assert per_position == 2 * cfg.n_layers * cfg.n_heads * (cfg.d_model // cfg.n_heads) * 4 == 512
    text = plain(live("KV cache", model, tokenizer), width=WIDE)
    assert f"= {per_position:,} bytes per position" in text
    for length in (len(ids), 16, 32, cfg.max_seq_len):
        label = f"{length} ← your prompt" if length == len(ids) else str(length)
        assert cells(text, label)[1:] == [human_bytes(length * per_position), f"{length} positions → 1 position"]
    assert human_bytes(len(ids) * per_position) == "4.5 KiB"


def test_sampling_page_follows_each_processor(sharp):
    model, tokenizer = sharp
    ids = tokenizer.encode(PROMPT)
    logits = reference_forward(model, ids)["logits"][-1]
    # the teaching sampler, step by step: repetition penalty 1.3 (CTRL), temperature 0.8, top-k 40, top-p 0.9, min-p 0.05
    penalised = logits.clone()
    seen = torch.tensor(sorted(set(ids)))
    penalised[seen] = torch.where(logits[seen] > 0, logits[seen] / 1.3, logits[seen] * 1.3)
    tempered = penalised / 0.8
    top_k = torch.full_like(tempered, -math.inf).scatter(0, tempered.topk(40).indices, tempered.topk(40).values)
    probs_k = top_k.softmax(-1)
    ranked = probs_k.sort(descending=True)
    nucleus = torch.zeros_like(probs_k)
    nucleus[ranked.indices[(ranked.values.cumsum(0) - ranked.values) < 0.9]] = 1.0  # the mass above it is < p
    probs_p = probs_k * nucleus / (probs_k * nucleus).sum()
    kept = torch.where(probs_p >= 0.05 * probs_p.max(), probs_p, 0.0)
    probs_min = kept / kept.sum()
    stages = [logits.softmax(-1), penalised.softmax(-1), tempered.softmax(-1), probs_k, probs_p, probs_min]

    text = plain(live("Sampling", model, tokenizer), width=WIDE)
    assert cells(text, "left")[1:] == [f"{int((stage > 0).sum()):,}" for stage in stages]
    top = logits.softmax(-1).topk(10).indices.tolist()
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == 11 and rows[-1][0] == "left"  # the ten likeliest tokens, then the counts
    for token_id, row in zip(top, rows):
        assert row[0] == shown(tokenizer.decode([token_id])) + (" ↺" if token_id in ids else "")
        assert row[1:] == [percent(stage[token_id].item()) for stage in stages]


def percent(p: float) -> str:
    """How the sampling table writes a probability: "—" when cut to 0, tiny ones in e-notation."""
    return "—" if p == 0 else f"{p:.1%}" if p >= 0.001 else f"{p:.0e}"


@pytest.mark.parametrize("pos_encoding", ["sinusoidal", "rope", "alibi"])
def test_learn_labels_are_true_for_the_models_positional_encoding(tiny, pos_encoding):
    # Page 7 said "embed + pos" on a RoPE model and "mean |x|" for a mean L2 norm; page 3 called
    # sinusoidal "the default here"; page 9 put T inside a per-position byte count.
    from dataclasses import replace

    _, tokenizer = tiny
    torch.manual_seed(0)
    model = DecoderTransformer(replace(tiny[0].config, pos_encoding=pos_encoding)).eval()
    block = plain(live("The block", model, tokenizer), width=WIDE)
    first = "embed + pos " if pos_encoding == "sinusoidal" else "embed "
    assert any(line.startswith(first) for line in block.splitlines()) and "mean L2 norm" in block
    assert ("embed + pos" in block) == (pos_encoding == "sinusoidal") and "|x|" not in block
    positional = plain(live("Positional encoding", model, tokenizer), width=WIDE)
    assert positional.startswith(f"this model uses {pos_encoding}: ")
    assert ("nothing added" in positional) == (pos_encoding != "sinusoidal")
    kv = plain(live("KV cache", model, tokenizer), width=WIDE)
    formula = kv.split("bytes per position")[0]
    assert "T" not in formula and "× T positions" in kv


def test_cut_attention_rows_and_logit_lens_columns_say_so(sharp):
    # Page 5 showed 8 of 9 tokens with rows that did not add up; page 8 dropped positions silently
    # and cut cells ("␣defau…").
    model, tokenizer = sharp
    count = len(tokenizer.encode(PROMPT))
    heads = plain(live("Multi-head attention", model, tokenizer), width=WIDE)
    assert f"the first {count - 8} tokens are hidden" in heads and "shown" in heads
    shares = [int(line.rstrip()[-5:-1]) for line in heads.splitlines() if line.rstrip().endswith("%")]
    assert shares and all(0 <= share <= 100 for share in shares)
    lens = plain(live("Model and training", model, tokenizer), width=80)
    assert f"the first {count - 8} positions are hidden" in lens and "…" not in lens

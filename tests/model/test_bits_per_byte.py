"""Bits per byte: the summed loss over the bytes of the predicted text, comparable across tokenizers."""

import math

import pytest
import torch

from tui_transformer.data.bpe import write_tiktoken_file
from tui_transformer.data.tokenizer import get_tokenizer, load_tiktoken_file
from tui_transformer.model import DecoderTransformer, ModelConfig
from tui_transformer.model.tools.perplexity import evaluate


def test_with_one_byte_per_token_bpb_is_the_loss_over_ln_2(tmp_path):
    path = tmp_path / "bytes.tiktoken"
    write_tiktoken_file(path, [bytes([b]) for b in range(256)])
    tokenizer = load_tiktoken_file(path, name="bytes")
    counts = tokenizer.token_byte_counts()
    assert counts[tokenizer.eot_id] == 0 and set(counts[:256]) == {1}
    torch.manual_seed(0)
    model = DecoderTransformer(ModelConfig(vocab_size=tokenizer.vocab_size, d_model=16, n_heads=2, n_layers=1,
                                           d_ff=32, max_seq_len=32)).eval()
    batch = torch.tensor([tokenizer.encode("bits per byte, exactly!")])
    scored = evaluate(model, [batch], token_bytes=counts)
    assert scored.bytes == scored.tokens == batch.shape[1] - 1
    assert scored.bpb == scored.loss / math.log(2)


@pytest.mark.slow  # tokenizes text with cl100k
def test_the_bytes_are_those_of_the_text_the_targets_decode_to():
    from tui_transformer.data.source_factory import open_source

    tokenizer = get_tokenizer("bpe-8192", source=open_source("builtin"))
    text = "Naïve café: the model predicts “every” byte — even half a character 🙂."
    ids = tokenizer.encode(text)
    eot = tokenizer.eot_id
    batch = torch.tensor([[eot, *ids, eot, *ids]])  # EOT among the targets counts 0 bytes
    torch.manual_seed(0)
    model = DecoderTransformer(ModelConfig(vocab_size=tokenizer.vocab_size, d_model=16, n_heads=2, n_layers=1,
                                           d_ff=32, max_seq_len=batch.shape[1])).eval()
    scored = evaluate(model, [batch], token_bytes=tokenizer.token_byte_counts())
    assert scored.bytes == 2 * len(text.encode("utf-8"))
    assert scored.tokens == batch.shape[1] - 1
    assert math.isclose(scored.bpb, scored.loss * scored.tokens / (scored.bytes * math.log(2)))


def test_cl100k_counts_every_ordinary_token_and_no_special_one():
    tokenizer = get_tokenizer("cl100k_base")
    counts = tokenizer.token_byte_counts()
    assert counts[tokenizer.eot_id] == 0
    for text in ("hello", " world", "😀", "日本語"):
        ids = tokenizer.encode(text)
        assert sum(counts[i] for i in ids) == len(text.encode("utf-8"))

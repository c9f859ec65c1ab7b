"""Tokenizers: cl100k offline with known ids, trained BPE determinism and round trips."""

import json

import pytest

from tui_transformer.data import get_tokenizer
from tui_transformer.data.bpe import train_bpe
from tui_transformer.data.local_source import DocumentGroup, LocalSource
from tui_transformer.data.tokenizer import load_tiktoken_file, train_or_load_bpe
from tui_transformer.errors import UserError

TRICKY = [
    "naïve café — déjà vu",
    "emoji 👩‍👩‍👧‍👦 family, flags 🇫🇷🇯🇵, skin 👍🏽",
    "combining: e\u0301 a\u0308 \u0915\u094d\u0937",
    "rtl: \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u200f mixed",
    "zero width\u200b\u200c\u200d joiners, bom \ufeff, replacement \ufffd, nonchar \uffff",
    "CJK 漢字かなカナ한국어, math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "control \x00\x01\x7f and tabs\t\r\n  trailing   ",
    "<|endoftext|> inside text <|fim_prefix|>",
    "",
]

CORPUS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "A tokenizer turns text into integers; the model only ever sees the integers.",
    "Byte pair encoding merges the most frequent pair of adjacent tokens, again and again.",
    "def tokenize(text):\n    return [ord(c) for c in text]\n",
    "Numbers like 12345 and 2024 are split into groups of at most three digits.",
] * 4


def test_cl100k_offline_gives_the_known_ids():
    tok = get_tokenizer("cl100k_base")
    assert tok.encode("hello world") == [15339, 1917]
    assert tok.encode("tiktoken is great!") == [83, 1609, 5963, 374, 2294, 0]
    assert (tok.vocab_size, tok.eot_id) == (100277, 100257)
    assert tok.decode([15339, 1917]) == "hello world"


def test_special_token_text_is_encoded_as_ordinary_text():
    tok = get_tokenizer("cl100k_base")
    ids = tok.encode("a <|endoftext|> b")
    assert tok.eot_id not in ids
    assert tok.decode(ids) == "a <|endoftext|> b"


def test_bpe_training_is_deterministic_and_learns_merges():
    first = train_bpe(CORPUS, 400)
    second = train_bpe(list(CORPUS), 400)
    assert first == second
    assert first[:256] == [bytes([b]) for b in range(256)]
    assert len(first) == 400 and len(set(first)) == 400
    assert b" the" in first or b"the" in first  # frequent English is merged early


def test_bpe_stops_when_nothing_repeats():
    assert len(train_bpe(["abcd"], 1000)) == 256  # no pair occurs twice: nothing to merge
    tokens = train_bpe(["abcabc abcabc"], 1000)
    assert b"abcabc" in tokens and len(tokens) < 1000


def test_trained_bpe_round_trips_tricky_unicode(tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path))
    tok = train_or_load_bpe(_memory_source(CORPUS + TRICKY), 512)
    assert tok.name == "bpe-512" and tok.eot_id == tok.vocab_size - 1
    for text in TRICKY + CORPUS:
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        assert tok.eot_id not in ids
    assert len(tok.encode(CORPUS[0])) < len(CORPUS[0].encode()) / 2  # it compresses what it saw


def test_trained_bpe_is_cached_by_corpus_and_size(tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path))
    first = train_or_load_bpe(_memory_source(CORPUS), 300)
    files = sorted((tmp_path / "tokenizers").glob("*.tiktoken"))
    again = train_or_load_bpe(_memory_source(CORPUS), 300)
    other = train_or_load_bpe(_memory_source(CORPUS[:3]), 300)
    assert again.identity() == first.identity()
    assert other.identity()["sha256"] != first.identity()["sha256"]
    assert len(files) == 1 and len(list((tmp_path / "tokenizers").glob("*.tiktoken"))) == 2
    loaded = load_tiktoken_file(files[0])
    assert loaded.encode("the quick brown fox") == first.encode("the quick brown fox")


def test_identity_is_stable_across_loads():
    first, second = get_tokenizer("cl100k_base"), get_tokenizer("cl100k_base")
    assert first.identity() == second.identity()
    assert len(first.identity()["sha256"]) == 64


@pytest.mark.parametrize("spec", ["bpe-abc", "bpe-10", "nonsense", "missing/file.tiktoken"])
def test_bad_specs_are_user_errors(spec):
    with pytest.raises(UserError):
        get_tokenizer(spec)


def test_offline_tiktoken_encoding_error_names_the_cause(monkeypatch, tmp_path):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # nothing cached: tiktoken must download
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # and the download cannot succeed
    with pytest.raises(UserError, match="gpt2.*internet"):
        get_tokenizer("gpt2")


def test_a_corrupt_tiktoken_file_is_a_user_error(tmp_path):
    path = tmp_path / "bad.tiktoken"
    path.write_text("not base64 at all\n")
    with pytest.raises(UserError):
        get_tokenizer(str(path))


def _memory_source(texts):
    group = DocumentGroup(fingerprint="memory:" + "|".join(texts), label="memory",
                          load=lambda: [(f"doc{i}", t) for i, t in enumerate(texts)])
    source = LocalSource([group], val_fraction=0.01)
    source.name = "memory"
    source.description = "texts in memory"
    return source


def swap_two_ranks(path):
    """Swap the tokens of ranks 300 and 301: still a well-formed ranks file, but another tokenizer."""
    lines = path.read_text().splitlines(keepends=True)
    a, b = lines[300].split()[0], lines[301].split()[0]
    lines[300], lines[301] = f"{b} 300\n", f"{a} 301\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize("damage", ["swap", "no digest"])
def test_a_damaged_cached_bpe_is_trained_again_not_adopted(tmp_path, monkeypatch, damage):
    """With two ranks swapped in bpe-N-*.tiktoken, a new run trained on it without a word."""
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path))
    original = train_or_load_bpe(_memory_source(CORPUS), 400)
    (cached,) = (tmp_path / "tokenizers").glob("*.tiktoken")
    if damage == "swap":
        swap_two_ranks(cached)
    else:  # a cache written before digests were recorded: it cannot be checked, so it is made again
        info = json.loads(cached.with_suffix(".json").read_text())
        cached.with_suffix(".json").write_text(json.dumps({k: v for k, v in info.items() if k != "sha256"}))
        swap_two_ranks(cached)
    heard = []
    again = train_or_load_bpe(_memory_source(CORPUS), 400, on_progress=heard.append)
    assert again.identity() == original.identity()
    assert load_tiktoken_file(cached).sha256() == original.sha256()
    assert any("training it again" in line for line in heard), heard

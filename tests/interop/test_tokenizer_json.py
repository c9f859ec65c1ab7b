"""tiktoken ranks -> ``tokenizer.json``: Hugging Face's tokenizer gives our ids, for cl100k_base too."""

import json

import pytest

from tui_transformer.data import get_tokenizer
from tui_transformer.data.bpe import GPT4_SPLIT_PATTERN
from tui_transformer.data.builtin_corpus import load_builtin_documents
from tui_transformer.data.split import split_of
from tui_transformer.errors import UserError
from tui_transformer.interop.tokenizer_json import hf_regex, read_hf_tokenizer, tokenizer_config, tokenizer_json


def test_cl100k_as_tokenizer_json_gives_the_same_ids_on_the_validation_split(tmp_path, transformers):
    tokenizer = get_tokenizer("cl100k_base")
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer_json(tokenizer)))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(tokenizer, 1024)))
    hf = transformers.AutoTokenizer.from_pretrained(tmp_path)
    texts = [text for doc_id, text in load_builtin_documents() if split_of(doc_id, 0.1) == "val"][:60]
    assert sum(map(len, texts)) > 20_000  # a slice of the split (the bpe test in test_hf_export takes all of it)
    texts.append("Version 3115, 1.999999 and 0x7fff: 123456789 numbers split in threes.")
    for text in texts:
        assert hf(text)["input_ids"] == tokenizer.encode(text)


def test_gpt4_pattern_drops_only_the_bounded_possessive():
    assert hf_regex(GPT4_SPLIT_PATTERN) == GPT4_SPLIT_PATTERN.replace(r"\p{N}{1,3}+", r"\p{N}{1,3}")
    with pytest.raises(UserError, match="no exact equivalent"):
        hf_regex(r"\p{N}{1,3}+x")


def test_slow_gpt2_files_import_like_tokenizer_json(bpe, tmp_path):
    """A folder with only vocab.json and merges.txt (GPT-2's original files): GPT-2's split pattern."""
    from tokenizers import ByteLevelBPETokenizer

    trainer = ByteLevelBPETokenizer()
    text = " ".join(t for _, t in load_builtin_documents()[:20])
    trainer.train_from_iterator([text], vocab_size=400, special_tokens=["<|endoftext|>"], show_progress=False)
    trainer.save_model(str(tmp_path))  # vocab.json and merges.txt only
    ours = read_hf_tokenizer(tmp_path, "slow")
    sample = text[:5000] + " it's 2024, isn't it?\n\n  spaced   out "
    assert ours.encode(sample) == trainer.encode(sample).ids

"""``export --format hf``: transformers loads the folder with no custom code and computes what we compute."""

import pytest
import torch

from tests.interop.interop_helpers import exported_to_transformers, random_model, save_as_run
from tui_transformer.cli import main
from tui_transformer.data.builtin_corpus import load_builtin_documents
from tui_transformer.data.split import split_of
from tui_transformer.model import SamplingConfig, generate


@pytest.mark.parametrize(("pos_encoding", "tied", "activation", "architecture"), [
    ("learned", False, "gelu", "GPT2LMHeadModel"),
    ("sinusoidal", True, "gelu", "GPT2LMHeadModel"),
    ("rope", True, "gelu", "GPTNeoXForCausalLM"),
    ("rope", False, "gelu_tanh", "GPTNeoXForCausalLM"),
    ("learned", True, "gelu_tanh", "GPT2LMHeadModel"),
])
def test_round_trip_logits_and_greedy_generation(bpe, tmp_path, capsys, transformers, pos_encoding, tied, activation,
                                                  architecture):
    model = random_model(bpe, pos_encoding, tie_weights=tied, activation=activation)
    hf = exported_to_transformers(model, bpe, tmp_path / "hf", capsys, transformers, architecture)

    ids = torch.tensor([bpe.encode("The interpreter reads a program, token by token, and runs it.")[:40]])
    with torch.inference_mode():
        difference = (model(ids) - hf(ids).logits).abs().max().item()
    assert difference <= 1e-4

    prompt = ids[:, :8]
    ours = list(generate(model, prompt[0].tolist(), max_new_tokens=20, sampling=SamplingConfig(temperature=0.0),
                         eos_id=bpe.eot_id))
    theirs = hf.generate(prompt, max_new_tokens=20, do_sample=False, pad_token_id=bpe.eot_id)[0, 8:].tolist()
    assert len(ours) == 20 and ours == theirs


def test_auto_tokenizer_ids_equal_ours_on_the_builtin_validation_split(bpe, tmp_path, transformers):
    save_as_run(random_model(bpe, "learned"), bpe, "r")
    assert main(["export", "r", "--out", str(tmp_path / "hf")]) == 0
    hf = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    texts = [text for doc_id, text in load_builtin_documents() if split_of(doc_id, 0.1) == "val"]
    assert sum(map(len, texts)) > 100_000  # the whole split: prose, code, odd whitespace
    for text in texts:
        assert hf(text)["input_ids"] == bpe.encode(text)
    assert hf.decode(bpe.encode(texts[0])) == texts[0]
    assert hf.eos_token_id == bpe.eot_id


def test_verify_flag_reports_an_exact_match(bpe, tmp_path, capfd, transformers):  # --verify loads it
    save_as_run(random_model(bpe, "rope"), bpe, "r")
    assert main(["export", "r", "--out", str(tmp_path / "hf"), "--verify"]) == 0
    out, err = capfd.readouterr()
    assert "verified with transformers" in out and "token ids equal" in out
    assert "Loading weights" not in out + err  # transformers' own progress bar is off

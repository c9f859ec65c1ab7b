"""``import DIR`` of a local random GPT-2, and ``export --format safetensors`` read back by generate/eval."""

import json

import pytest
import torch

from tests.interop.interop_helpers import random_model, save_as_run
from tui_transformer.cli import main
from tui_transformer.train.checkpoint import load_for_inference

TEXT = "A random GPT-2 speaks: don't panic, 42 times!\n\tIndented code() follows.  "


def local_gpt2(transformers, folder, corpus_text: str, activation: str = "gelu_new"):
    """A randomly initialised GPT2LMHeadModel and a byte-level BPE tokenizer trained by `tokenizers`, saved."""
    from tokenizers import ByteLevelBPETokenizer

    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator([corpus_text], vocab_size=400, special_tokens=["<|endoftext|>"], show_progress=False)
    tokenizer = transformers.GPT2TokenizerFast(tokenizer_object=trainer._tokenizer, eos_token="<|endoftext|>",
                                  bos_token="<|endoftext|>")
    torch.manual_seed(1)
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=4,
                        activation_function=activation, tie_word_embeddings=True,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # GPT-2's init (std 0.02) keeps pre-activations so small that any GELU looks alike
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


@pytest.mark.parametrize("activation", ["gelu_new", "gelu"])  # GPT-2's own tanh GELU, and the exact one
def test_import_of_a_local_random_gpt2_gives_its_logits_and_tokens(bpe, tmp_path, capsys, transformers, activation):
    from tui_transformer.data.builtin_corpus import load_builtin_documents

    corpus = " ".join(text for _, text in load_builtin_documents()[:40])
    hf_model, hf_tokenizer = local_gpt2(transformers, tmp_path / "gpt2", corpus, activation)
    assert main(["import", str(tmp_path / "gpt2"), "--name", "tiny-gpt2"]) == 0
    assert "imported" in capsys.readouterr().out
    model, tokenizer, config = load_for_inference("tiny-gpt2")
    assert config.model.pos_encoding == "learned"
    assert config.model.activation == ("gelu_tanh" if activation == "gelu_new" else "gelu")
    ids = hf_tokenizer(TEXT)["input_ids"]
    assert tokenizer.encode(TEXT) == ids
    with torch.inference_mode():
        difference = (model(torch.tensor([ids])) - hf_model(torch.tensor([ids])).logits).abs().max().item()
    assert difference <= 1e-4
    assert main(["generate", "--run", "tiny-gpt2", "--prompt", "Hello", "--max-new-tokens", "5", "--preset",
                 "greedy", "--device", "cpu"]) == 0
    assert main(["runs", "list"]) == 0 and "tiny-gpt2" in capsys.readouterr().out
    from tui_transformer.train.runs import list_runs
    from tui_transformer.tui.screens.playground import checkpoint_options, load_checkpoint

    (option,) = [o for o in checkpoint_options(list_runs()) if o[0].startswith("tiny-gpt2")]
    assert option[0] == "tiny-gpt2 · imported"  # the Playground lists it and loads it as generate does
    loaded, _, label = load_checkpoint(option[1])
    assert label == "tiny-gpt2" and loaded.config == model.config
    assert main(["import", str(tmp_path / "gpt2"), "--name", "tiny-gpt2"]) == 2
    assert "--force" in one_error_line(capsys)
    assert main(["import", str(tmp_path / "gpt2"), "--name", "tiny-gpt2", "--force"]) == 0


def test_safetensors_export_is_what_generate_and_eval_load(bpe, tmp_path, capsys):
    model = random_model(bpe, "alibi")  # ours only: the safetensors export keeps any configuration
    save_as_run(model, bpe, "r")
    assert main(["export", "r", "--format", "safetensors", "--out", str(tmp_path / "st")]) == 0
    loaded, tokenizer, _ = load_for_inference(tmp_path / "st")
    ids = torch.tensor([bpe.encode(TEXT)])
    with torch.inference_mode():
        assert torch.equal(loaded(ids), model(ids))
    assert tokenizer.identity() == bpe.identity()
    (tmp_path / "t.txt").write_text(TEXT * 3)
    assert main(["eval", "--run", str(tmp_path / "st"), "--text", str(tmp_path / "t.txt"), "--device", "cpu"]) == 0


def test_a_version_1_rope_export_loads_computing_what_it_computed(bpe, tmp_path):
    """Version 1 exports rotated neighbouring pairs (2i, 2i+1): their q and k rows come back reordered."""
    from safetensors.torch import load_file, save_file

    from tui_transformer.digest import file_sha256

    model = random_model(bpe, "rope")
    save_as_run(model, bpe, "r")
    assert main(["export", "r", "--format", "safetensors", "--out", str(tmp_path / "st")]) == 0
    meta_path, weights_path = tmp_path / "st" / "tui_transformer.json", tmp_path / "st" / "model.safetensors"
    meta, tensors = json.loads(meta_path.read_text()), load_file(str(weights_path))
    d_head, n_heads = model.config.d_head, model.config.n_heads
    to_neighbours = torch.argsort(torch.cat([torch.arange(0, d_head, 2), torch.arange(1, d_head, 2)]))
    for name in [n for n in tensors if n.endswith("attn.qkv.weight") or n.endswith("attn.qkv.bias")]:
        parts = tensors[name].reshape(3, n_heads, d_head, *tensors[name].shape[1:]).clone()
        parts[:2] = parts[:2, :, to_neighbours]  # as the version-1 model held them
        tensors[name] = parts.reshape(tensors[name].shape).contiguous()
    save_file(tensors, str(weights_path))
    meta_path.write_text(json.dumps({**meta, "version": 1, "sha256": {"model.safetensors": file_sha256(weights_path)}}))
    loaded, _, _ = load_for_inference(tmp_path / "st")
    ids = torch.tensor([bpe.encode(TEXT)])
    with torch.inference_mode():
        torch.testing.assert_close(loaded(ids), model(ids), rtol=1e-5, atol=1e-5)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_bad_input_is_one_line_and_nothing_is_half_written(bpe, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", "no-such-run", "--out", str(out)]) == 2
    assert "no run called" in one_error_line(capsys) and not out.exists()

    save_as_run(random_model(bpe, "alibi"), bpe, "alibi-run")
    assert main(["export", "alibi-run", "--out", str(out)]) == 2
    assert "alibi" in one_error_line(capsys) and not out.exists()

    out.mkdir()
    (out / "keep.txt").write_text("mine")
    save_as_run(random_model(bpe, "learned"), bpe, "ok")
    assert main(["export", "ok", "--out", str(out)]) == 2
    assert "--force" in one_error_line(capsys) and (out / "keep.txt").read_text() == "mine"
    assert main(["export", "ok", "--out", str(out), "--force"]) == 0
    assert (out / "config.json").is_file() and not (out / "keep.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_import_refuses_what_is_not_gpt2_shaped(bpe, tmp_path, capsys, transformers):
    assert main(["import", str(tmp_path)]) == 2
    assert "no config.json" in one_error_line(capsys)

    corpus = "the cat sat on the mat. " * 200
    local_gpt2(transformers, tmp_path / "g", corpus)
    capsys.readouterr()  # save_pretrained's progress bars
    config = json.loads((tmp_path / "g" / "config.json").read_text())
    (tmp_path / "g" / "config.json").write_text(json.dumps(config | {"activation_function": "relu"}))
    assert main(["import", str(tmp_path / "g")]) == 2
    assert "'relu'" in one_error_line(capsys)
    (tmp_path / "g" / "config.json").write_text(json.dumps(config | {"model_type": "llama"}))
    assert main(["import", str(tmp_path / "g")]) == 2
    assert "not GPT-2" in one_error_line(capsys)
    (tmp_path / "g" / "config.json").write_text(json.dumps(config))

    weights = tmp_path / "g" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert main(["import", str(tmp_path / "g"), "--name", "broken"]) == 2
    assert "damaged or truncated" in one_error_line(capsys)
    assert main(["runs", "list"]) == 0 and "broken" not in capsys.readouterr().out


def test_a_damaged_safetensors_export_is_one_line(bpe, tmp_path, capsys):
    save_as_run(random_model(bpe, "rope"), bpe, "r")
    assert main(["export", "r", "--format", "safetensors", "--out", str(tmp_path / "st")]) == 0
    weights = tmp_path / "st" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert main(["generate", "--run", str(tmp_path / "st"), "--prompt", "x", "--device", "cpu"]) == 2
    assert "damaged or truncated" in one_error_line(capsys)


def test_missing_extra_is_one_line_naming_the_install_command(bpe, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # what a base install without the extra sees
    save_as_run(random_model(bpe, "learned"), bpe, "r")
    assert main(["export", "r", "--out", str(tmp_path / "hf"), "--verify"]) == 2
    assert "uv sync --extra hf" in one_error_line(capsys) and not (tmp_path / "hf").exists()
    assert main(["export", "r", "--out", str(tmp_path / "hf")]) == 0  # writing needs no transformers
    assert (tmp_path / "hf" / "tokenizer.json").is_file()

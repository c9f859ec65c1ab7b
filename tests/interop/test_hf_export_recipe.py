"""``export --format hf`` of the recipe's options: Llama, Qwen3, ReLU² where they fit exactly, one line where none does."""

import pytest
import torch

from tests.interop.interop_helpers import exported_to_transformers, random_model, save_as_run
from tui_transformer.cli import main

LLAMA = dict(norm="rmsnorm", activation="swiglu")


@pytest.mark.parametrize(("pos_encoding", "tied", "options", "architecture"), [
    ("rope", True, LLAMA | dict(bias=False), "LlamaForCausalLM"),
    ("rope", False, LLAMA | dict(bias=True, zero_init_proj=True), "LlamaForCausalLM"),
    ("rope", False, LLAMA | dict(bias=False, qk_norm=True), "Qwen3ForCausalLM"),
    ("learned", True, dict(activation="relu2"), "GPT2LMHeadModel"),
    ("rope", False, dict(activation="relu2"), "GPTNeoXForCausalLM"),
])
def test_transformers_computes_what_we_compute(bpe, tmp_path, capsys, transformers, pos_encoding, tied, options,
                                               architecture):
    model = random_model(bpe, pos_encoding, tie_weights=tied, **options)
    hf = exported_to_transformers(model, bpe, tmp_path / "hf", capsys, transformers, architecture)
    ids = torch.tensor([bpe.encode("The interpreter reads a program, token by token, and runs it.")[:40]])
    with torch.inference_mode():
        ours = model(ids)
        assert (ours - hf(ids).logits).abs().max().item() <= 1e-4
        assert ours.std() > 0.1  # the random weights give logits that tell a misplaced tensor apart


@pytest.mark.parametrize(("pos_encoding", "options", "named"), [
    ("rope", LLAMA | dict(bias=False, logit_softcap=15.0), "logit_softcap=15.0"),
    ("learned", dict(norm="rmsnorm"), "GPT2LMHeadModel cannot express norm='rmsnorm'"),
    ("rope", dict(bias=False), "GPTNeoXForCausalLM cannot express bias=false"),
    ("rope", LLAMA | dict(bias=True, qk_norm=True), "cannot express qk_norm=true"),
    ("rope", dict(norm="rmsnorm", activation="relu2"), "LlamaForCausalLM cannot express activation='relu2'"),
    ("sinusoidal", dict(qk_norm=True), "GPT2LMHeadModel cannot express qk_norm=true"),
])
def test_an_option_no_layout_expresses_is_refused_in_one_line_naming_it(bpe, tmp_path, capsys, pos_encoding,
                                                                        options, named):
    save_as_run(random_model(bpe, pos_encoding, **options), bpe, "r")
    assert main(["export", "r", "--format", "hf", "--out", str(tmp_path / "hf")]) != 0
    err = capsys.readouterr().err.strip()
    assert named in err and "safetensors" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "hf").exists()


@pytest.mark.parametrize("pos_encoding", ["alibi", "learned"])
def test_the_safetensors_export_carries_every_option(bpe, tmp_path, pos_encoding):
    from tui_transformer.train.checkpoint import load_for_inference

    options = LLAMA | dict(bias=False, qk_norm=True, zero_init_proj=True, logit_softcap=4.0)
    model = random_model(bpe, pos_encoding, tie_weights=False, **options)
    save_as_run(model, bpe, "r")
    assert main(["export", "r", "--format", "safetensors", "--out", str(tmp_path / "st")]) == 0
    loaded, _, config = load_for_inference(tmp_path / "st")
    assert config.model == model.config
    ids = torch.tensor([bpe.encode("Every option travels with the weights.")])
    with torch.inference_mode():
        assert torch.equal(loaded(ids), model(ids))

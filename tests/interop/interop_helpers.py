"""Helpers for the interop tests: tiny random models, and runs saved the way the trainer saves them."""

import torch

from tui_transformer.model import DecoderTransformer, ModelConfig


def random_model(tokenizer, pos_encoding: str, tie_weights: bool = True, seed: int = 0,
                 activation: str = "gelu", **options) -> DecoderTransformer:
    """A d32/L2/H4 model whose every weight (biases and norms too) is random, so a mapping that
    drops or misplaces any tensor changes the logits. ``options``: more ModelConfig fields."""
    torch.manual_seed(seed)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                         max_seq_len=64, pos_encoding=pos_encoding, tie_weights=tie_weights,
                         activation=activation, **options)
    model = DecoderTransformer(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    return model


def save_as_run(model, tokenizer, run_name: str):
    """Write ``model`` as a run folder with a real checkpoint, as the trainer does (step 0)."""
    from tui_transformer.paths import runs_dir
    from tui_transformer.train import config_file
    from tui_transformer.train.checkpoint import save
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.runs import CHECKPOINTS, CONFIG_FILE, TOKENIZER_FILE

    config = TrainConfig(model=model.config, tokenizer=tokenizer.name)
    run_dir = runs_dir() / run_name
    (run_dir / CHECKPOINTS).mkdir(parents=True)
    config_file.write(config, run_dir / CONFIG_FILE)
    tokenizer.write_ranks_file(run_dir / TOKENIZER_FILE)
    save({"model": model.state_dict(), "config": config.to_dict(), "tokenizer": tokenizer.identity(), "step": 0},
         run_dir / CHECKPOINTS / "latest.pt")
    return run_dir


def exported_to_transformers(model, tokenizer, out, capsys, transformers, architecture: str):
    """``model`` saved as a run, exported with ``export --format hf`` to ``out``, and loaded back by plain
    ``transformers``, whose class must be ``architecture``; returns the loaded model."""
    from tui_transformer.cli import main

    save_as_run(model, tokenizer, "r")
    assert main(["export", "r", "--format", "hf", "--out", str(out)]) == 0
    assert architecture in capsys.readouterr().out
    hf = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert type(hf).__name__ == architecture
    return hf

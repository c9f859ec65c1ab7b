"""The decode bench: every variant measured, ours and the lean loop choose the same tokens."""

import json

import pytest

from tui_transformer.bench.decode import measure_bandwidth, run_decode_bench, step_bytes
from tui_transformer.cli import main
from tui_transformer.model import ModelConfig

TINY = ModelConfig(vocab_size=97, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=64)


def test_ours_and_the_lean_loop_decode_the_same_tokens_at_both_batch_sizes():
    result = run_decode_bench(TINY, batch_sizes=(1, 3), new_tokens=6, prompt_len=10, rounds=1)
    rows = {(r["batch"], r["variant"]): r for r in result["rows"]}
    for batch in (1, 3):
        assert rows[(batch, "ours")]["tokens_match"] and rows[(batch, "lean")]["tokens_match"]
        assert rows[(batch, "ours")]["vs_ours"] == 1.0 and rows[(batch, "lean")]["tokens_per_s"] > 0
    assert 0 < rows[(1, "ours")]["mbu"] and "mbu" not in rows[(3, "ours")]
    assert result["config"]["pos_encoding"] == "learned" and result["config"]["max_seq_len"] == 64


def test_the_bytes_a_step_reads_are_the_weights_and_the_cache():
    # count_parameters(TINY) weights in float32, plus K and V: 2 · L · H · t · d_head · 4 bytes
    from tui_transformer.model.transformer import count_parameters

    assert step_bytes(TINY, 10) == 4 * count_parameters(TINY) + 2 * 2 * 2 * 10 * 16 * 4
    assert measure_bandwidth("cpu", repeats=1) > 1e8  # at least 100 MB/s on any machine that runs this


def test_the_cli_prints_one_json_object(capfd):
    """... and nothing of transformers' (it warned twice that GPT-2's bos and eos ids lay outside the vocabulary)."""
    assert main(["bench", "decode", "--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--d-ff", "64",
                 "--vocab-size", "97", "--batch-sizes", "1", "--new-tokens", "4", "--prompt-len", "8", "--rounds", "1",
                 "--json"]) == 0
    out, err = capfd.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "decode" and {r["variant"] for r in result["rows"]} >= {"ours", "lean", "hf"}
    assert "[transformers]" not in err and "bos_token_id" not in out + err


@pytest.mark.slow  # torch.compile of the prefill and the decode step: ~30-60 s on 2 cores
def test_the_compiled_variant_decodes_the_same_tokens():
    result = run_decode_bench(TINY, batch_sizes=(1,), new_tokens=5, prompt_len=6, rounds=1, compile=True)
    compiled = next(r for r in result["rows"] if r["variant"] == "ours-compiled")
    assert compiled["tokens_match"] and compiled["tokens_per_s"] > 0 and result["compile_s"] > 0

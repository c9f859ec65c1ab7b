"""The recipe bench: arms build or fail in one line, calibration gives steps, the held-out bytes are the
same for every tokenizer, and a tiny bench on builtin prints a table and JSON with finite bits per byte."""

import json
import math

import pytest
import torch

from tui_transformer.bench.held_out import held_out_documents, score
from tui_transformer.bench.recipe import (ARMS, Arm, Plan, arm_config, builtin_arm, calibrate, parse_arm,
                                          seconds_to_steps)
from tui_transformer.cli import main
from tui_transformer.data import get_tokenizer, open_source
from tui_transformer.errors import ConfigError, UserError
from tui_transformer.model import DecoderTransformer, ModelConfig
from tui_transformer.presets import PRESETS

CLASSIC = PRESETS["classic"]
SMALL = "tokenizer=bpe-257,d_model=32,n_layers=1,n_heads=2,d_ff=64,seq_len=32,batch_size=4,eval_batches=2"


def test_every_builtin_arm_builds_or_names_itself_in_a_one_line_error():
    """Arms of options not in this version yet (another branch adds them) fail alone, by name."""
    for name in ARMS:
        try:
            config = arm_config(CLASSIC, builtin_arm(name))
        except ConfigError as error:
            assert str(error).startswith(f"arm {name}: ") and "\n" not in str(error)
        else:
            assert all(_setting(config, key) == value for key, value in ARMS[name].items())
    assert arm_config(CLASSIC, builtin_arm("classic")) == CLASSIC


def test_the_modern_arm_is_exactly_what_tiny_adopted_over_classic():
    """The bench's `modern` arm and the tiny preset cannot drift apart: one is the other's definition."""
    modern = arm_config(CLASSIC, builtin_arm("modern"))
    assert modern.with_overrides(preset="tiny") == PRESETS["tiny"]
    assert modern.with_overrides(preset="tiny") != CLASSIC.with_overrides(preset="tiny")


def _setting(config, key):
    return getattr(config.model, key.removeprefix("model_")) if key.startswith("model_") else getattr(config, key)


def test_a_user_arm_reads_its_values_by_type_and_a_bad_one_is_one_error():
    arm = parse_arm("big:d_model=192,lr=3e-3,pos_encoding=learned")
    assert arm == Arm("big", {"model_d_model": 192, "lr": 3e-3, "model_pos_encoding": "learned"})
    config = arm_config(CLASSIC, arm)
    assert (config.model.d_model, config.lr, config.model.pos_encoding) == (192, 3e-3, "learned")
    for text, words in (("big", "NAME:key=value"), ("big:d_modle=3", "did you mean d_model"),
                        ("big:lr=fast", "'fast' is not a float"), ("b g:lr=1", "may only use")):
        with pytest.raises(UserError, match=words):
            parse_arm(text)
    with pytest.raises(ConfigError, match="arm odd: d_model .* must be divisible by n_heads"):
        arm_config(CLASSIC, Arm("odd", {"model_d_model": 130}))
    with pytest.raises(ConfigError, match="arm sneaky: max_steps is set by the bench"):
        arm_config(CLASSIC, Arm("sneaky", {"max_steps": 5}))
    with pytest.raises(ConfigError, match="no built-in arm called 'nope'"):
        builtin_arm("nope")


def test_the_plan_refuses_a_reference_outside_the_arms_before_anything_trains():
    plan = Plan(base=CLASSIC, arms=(builtin_arm("classic"),), data=("builtin",), seconds=1, seeds=1, reference="nanogpt-cpu")
    with pytest.raises(ConfigError, match="--reference nanogpt-cpu is not among the arms"):
        plan.check()


def test_calibration_turns_seconds_into_steps():
    assert seconds_to_steps(300, 0.1) == 3000
    assert seconds_to_steps(300, 0.7) == 428  # floor: an arm never gets more than its share of time
    assert seconds_to_steps(1, 5.0) == 1  # every arm trains at least one step


@pytest.mark.slow  # sets up two trainers and times their steps (~3 s)
def test_calibration_times_each_arm_in_turns_and_leaves_nothing_behind(corpus, tmp_path):
    base = CLASSIC.with_overrides(data=str(corpus), device="cpu")
    configs = {name: arm_config(base, parse_arm(f"{name}:{SMALL},{extra}"))
               for name, extra in (("narrow", "d_ff=32"), ("wide", "d_ff=512"))}
    step_s = calibrate(configs, 0.3, tmp_path / "calibrating")
    assert set(step_s) == {"narrow", "wide"} and all(0 < s < 10 for s in step_s.values())
    assert not (tmp_path / "calibrating").exists()


def test_the_held_out_bytes_are_the_same_for_every_tokenizer_and_context(corpus):
    source = open_source(str(corpus), val_fraction=0.2)
    documents = held_out_documents(source, 3000)
    assert sum(len(d.encode()) for d in documents) == 3000 and len(documents) >= 2  # 60 KB / 40 docs: ~1.5 KB each
    scored = []
    for tokenizer_name, seq_len in (("bpe-257", 32), ("bpe-300", 16)):
        tokenizer = get_tokenizer(tokenizer_name, source=source)
        torch.manual_seed(0)
        model = DecoderTransformer(ModelConfig(vocab_size=tokenizer.vocab_size, d_model=16, n_heads=2, n_layers=1,
                                               d_ff=32, max_seq_len=seq_len))
        scored.append(score(model, tokenizer, documents, seq_len, batch_size=4))
    assert scored[0].bytes == scored[1].bytes == 3000  # every byte predicted once, whatever the tokens
    assert scored[0].tokens > scored[1].tokens  # the byte-level tokenizer needs more tokens for the same text
    assert all(math.isfinite(s.bpb) for s in scored)
    with pytest.raises(UserError, match="give a smaller --eval-bytes"):
        held_out_documents(source, 10**9)


@pytest.mark.slow  # builds the builtin corpus on first use, then trains and scores 4 small runs (~30 s)
def test_a_tiny_bench_on_builtin_prints_a_table_and_json_with_finite_bits_per_byte(capfd, tmp_path):
    from rich.console import Console

    from tui_transformer.commands.bench_recipe import print_table

    assert main(["bench", "recipe", "--arms", "", "--arm", f"rope:{SMALL}", "--arm",
                 f"learned:{SMALL},pos_encoding=learned", "--reference", "rope", "--data", "builtin", "--seconds", "2", "--calibrate", "0.5", "--seeds", "2",
                 "--eval-bytes", "2000", "--device", "cpu", "--runs-dir", str(tmp_path), "--name", "t", "--json"]) == 0
    out, _ = capfd.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bench"] == "recipe" and result["torch"] == torch.__version__ and result["device"] == "cpu"
    [source] = result["sources"]
    assert source["eval_bytes"] == 2000 and {row["arm"] for row in source["rows"]} == {"rope", "learned"}
    for row in source["rows"]:
        assert math.isfinite(row["bpb_mean"]) and row["bpb_min"] <= row["bpb_mean"] <= row["bpb_max"]
        assert row["steps"] >= 1 and row["s_per_step"] > 0 and len(row["runs"]) == 2
        assert [run["seed"] for run in row["runs"]] == [1337, 1338]
    assert next(r for r in source["rows"] if r["arm"] == "rope")["ratio"] == 1.0
    assert (tmp_path / "t-builtin-rope-s1338" / "checkpoints" / "latest.pt").is_file()  # ordinary run folders
    console = Console(record=True, width=160)
    print_table(result, console)
    table = console.export_text()
    assert "rope" in table and "learned" in table and "1.000x" in table


@pytest.mark.slow  # calibrates one small arm, then trains it for the steps a given calibration allows (~8 s)
def test_a_calibration_saved_once_sets_the_steps_of_a_later_bench(capfd, tmp_path):
    """--calibrate-only times the arms and trains nothing; --calibration reuses those times, timing nothing."""
    arm = ["--arms", "", "--arm", f"a:{SMALL}", "--reference", "a", "--data", "builtin", "--device", "cpu",
           "--eval-bytes", "2000", "--runs-dir", str(tmp_path), "--json"]
    assert main(["bench", "recipe", *arm, "--calibrate", "0.3", "--calibrate-only", "--name", "c"]) == 0
    out, _ = capfd.readouterr()
    saved = json.loads(out.strip().splitlines()[-1])
    [source] = saved["sources"]
    assert source["rows"] == [] and source["calibration"]["a"] > 0
    assert not list(tmp_path.glob("c-*"))  # nothing trained
    calibration = tmp_path / "calibration.json"
    source["calibration"]["a"] = 0.5  # a made-up time: the later bench must take its steps from it
    calibration.write_text(json.dumps(saved))
    assert main(["bench", "recipe", *arm, "--seconds", "3", "--seeds", "1", "--calibration", str(calibration),
                 "--name", "r"]) == 0
    out, err = capfd.readouterr()
    [row] = json.loads(out.strip().splitlines()[-1])["sources"][0]["rows"]
    assert row["steps"] == 6 and row["s_per_step"] == 0.5 and "calibrating" not in err


def test_a_calibration_file_that_is_not_a_bench_result_is_one_error(tmp_path):
    from tui_transformer.bench.recipe import read_calibration

    path = tmp_path / "x.json"
    path.write_text('{"sources": [{"data": "builtin"}]}\n')
    with pytest.raises(UserError, match="not the JSON of a calibrated bench recipe run"):
        read_calibration(path)

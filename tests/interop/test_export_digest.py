"""A safetensors export (or an imported run) is verified against the sha256 recorded when it was written.

safetensors has no checksum: a flipped bit in a tensor's exponent loads with exit 0 and changes the
text. The export records the digest of ``model.safetensors`` in ``tui_transformer.json``; loading
refuses any difference in one line. An export without a digest loads, named as unverified.
"""

import json
import struct

import pytest

from tests.interop.interop_helpers import random_model, save_as_run
from tests.interop.test_import_and_safetensors import local_gpt2, one_error_line
from tui_transformer.cli import main

GENERATE = ["--prompt", "the", "--max-new-tokens", "3", "--preset", "greedy", "--device", "cpu"]


def flip_exponent_bit(weights, value: int) -> None:
    """Flip the top exponent bit of float32 number ``value`` (modulo their count) of a safetensors file."""
    data = bytearray(weights.read_bytes())
    header = 8 + struct.unpack("<Q", data[:8])[0]  # a u64 header length, then the JSON header, then the data
    data[header + 3 + 4 * (value % ((len(data) - header) // 4))] ^= 0x40  # bit 30 of a little-endian float32
    weights.write_bytes(bytes(data))


@pytest.fixture
def export(bpe, tmp_path):
    save_as_run(random_model(bpe, "rope"), bpe, "r")
    assert main(["export", "r", "--format", "safetensors", "--out", str(tmp_path / "st")]) == 0
    return tmp_path / "st"


def test_every_flipped_exponent_bit_of_an_export_is_refused_in_one_line(export, capsys):
    pristine = (export / "model.safetensors").read_bytes()
    tried = held = 0
    for flip in range(8):
        (export / "model.safetensors").write_bytes(pristine)
        flip_exponent_bit(export / "model.safetensors", flip * 997)
        capsys.readouterr()
        tried += 1
        if main(["generate", "--run", str(export), *GENERATE]) == 2:
            held += "do not match the sha256 recorded" in one_error_line(capsys)
    assert (tried, held) == (8, 8)


def test_an_imported_run_is_verified_too(tmp_path, capsys):
    local_gpt2(tmp_path / "g", "the cat sat on the mat. " * 200)
    assert main(["import", str(tmp_path / "g"), "--name", "g"]) == 0
    from tui_transformer.paths import runs_dir

    flip_exponent_bit(runs_dir() / "g" / "model.safetensors", 5)
    capsys.readouterr()
    assert main(["generate", "--run", "g", *GENERATE]) == 2
    assert "do not match the sha256 recorded" in one_error_line(capsys)


def test_an_export_without_a_digest_loads_and_is_named_unverified(export, capsys):
    meta = json.loads((export / "tui_transformer.json").read_text())
    meta.pop("sha256")
    (export / "tui_transformer.json").write_text(json.dumps(meta))
    capsys.readouterr()
    assert main(["generate", "--run", str(export), *GENERATE]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "unverified" in err and "Traceback" not in err


def test_generate_takes_the_safetensors_file_of_an_export(export, capsys):
    """It said the sound file "is corrupt or truncated (not a complete zip archive)": read as a .pt."""
    assert main(["generate", "--checkpoint", str(export / "model.safetensors"), *GENERATE]) == 0
    capsys.readouterr()
    lone = export.parent / "lone.safetensors"
    lone.write_bytes((export / "model.safetensors").read_bytes())
    assert main(["generate", "--checkpoint", str(lone), *GENERATE]) == 2
    assert "tui_transformer.json" in one_error_line(capsys)

"""Keeping freed memory: after keep_freed_memory() a big tensor made again is not page-faulted in again."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, resource, torch
    # As in a trainer, the whole stack is loaded before memory is kept. In a process that has loaded
    # only torch, the 64 MB blocks were seen to be faulted in afresh until a second call: where the
    # heap can grow depends on what is mapped beside it.
    import tui_transformer.train.setup
    from tui_transformer.train.allocator import keep_freed_memory

    def faults_per_tensor(rounds=8, mb=64):
        counts = []
        for _ in range(rounds):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            tensor = torch.empty(mb * 2**18).fill_(1.0)  # a step's big tensor: made, written, freed
            del tensor
            counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        return counts

    default = faults_per_tensor()
    applied = keep_freed_memory()
    kept = faults_per_tensor()
    again = keep_freed_memory()  # as a second trainer in the same process does
    kept_again = faults_per_tensor()
    print(json.dumps({"default": default, "applied": applied, "kept": kept, "again": again, "kept_again": kept_again}))
""")


@pytest.mark.slow  # a fresh process that imports torch
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_a_freed_big_tensor_is_reused_instead_of_faulted_in_again_and_a_second_call_keeps_it_so():
    """A fresh process: by default every 64 MB tensor faults in its 16,384 pages; once memory is kept,
    the later ones fault in none (the first ones grow the heap), and calling again changes nothing."""
    import json

    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    pages = 64 * 2**20 // 4096
    assert result["applied"] is True
    assert all(count >= pages * 0.9 for count in result["default"][1:]), result
    assert all(count < pages * 0.01 for count in result["kept"][-3:]), result
    assert result["again"] is True
    assert all(count < pages * 0.01 for count in result["kept_again"]), result

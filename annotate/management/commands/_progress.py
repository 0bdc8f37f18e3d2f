from __future__ import annotations

from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(description: str, *, disable: bool = False):
    """A tqdm bar driven by the services' (done, total) progress callbacks."""
    bar = tqdm(desc=description, unit="file", disable=disable)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()

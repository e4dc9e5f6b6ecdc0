"""Progress bars (tqdm) for long command-line work: shown when stderr is a terminal, quiet
otherwise (logs, pipes, cron, tests). Service functions take a plain `progress(n)`
callable, so the service layer knows nothing of bars."""

from __future__ import annotations

import sys

from tqdm import tqdm


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


def bar(*, total: int | None, desc: str, unit: str = "it", stream=None) -> tqdm:
    """A bar on stderr (or `stream`), disabled unless it is a terminal. Use as a context
    manager; pass `bar.update` as the service's `progress`."""
    stream = stream if stream is not None else sys.stderr
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=stream,
        disable=not is_terminal(stream),
        leave=False,  # the command's own summary line follows
        dynamic_ncols=True,
    )

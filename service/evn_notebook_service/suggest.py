"""Codes close to a mistyped experiment code, for "did you mean …?".

Experiment codes are short and differ in single characters (EG078B, EG087B, EG078C): a typo is a
character wrong, missing or extra, or two neighbours swapped. The measure is therefore the edit
distance counting a swap of neighbours as one edit (optimal string alignment), and a code is
close when at most a third of its characters (at least one) need editing; ties go to the more
similar by difflib's ratio, then alphabetically.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    neighbouring characters, each one edit."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(
                row[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                row[j - 1] + (ca != cb),  # substitution
            )
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)  # swap of neighbours
        before, row = row, current
    return row[len(b)]


def close_codes(code: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``known`` close to ``code`` (``code`` itself excluded), closest first."""
    limit = max(1, len(code) // 3)
    scored = []
    for other in known:
        if other == code or abs(len(other) - len(code)) > limit:
            continue
        distance = edit_distance(code, other)
        if distance <= limit:
            ratio = difflib.SequenceMatcher(None, code, other).ratio()
            scored.append((distance, -ratio, other))
    return [other for *_, other in sorted(scored)[:n]]

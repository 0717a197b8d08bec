"""When a writer type can be read as a reader type, and which reader union branch a writer
type is read as: ``rust/src/matching.rs``, shared by ``compat.py`` and ``resolve.py``.

Branch choice is Apache Avro Java 1.12's ``Resolver.ReaderUnion.firstMatchingBranch``: the
exact type first (the same full name, or a reader alias naming it, for named types), then a
record branch that resolves (the last with the writer's unqualified name, else the first),
then the first promotion. Only candidates that resolve count, so the resolver finds a branch
whenever the checker says compatible (see the Rust module for the reasoning).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .._avro_rules import PROMOTIONS
from ..schema import Node

__all__ = ["PROMOTIONS", "names_match", "select_branch"]


def names_match(w: Node, r: Node) -> bool:
    """Named types match by unqualified name, or through a reader alias naming the writer's
    full name. Unnamed types always do."""
    a, b = w.name, r.name
    if a is not None and b is not None:
        return a.name == b.name or a.fullname in r.aliases
    return True


def select_branch(w: Node, branches: Sequence[Node], resolves: Callable[[int], bool]) -> int | None:
    """The index of the reader union branch non-union writer node ``w`` is read as, or None.
    ``resolves(i)`` tells whether branch ``i`` can read the writer's values; it is asked at
    most once per branch."""
    asked = [False] * len(branches)

    def ask(i: int) -> bool:
        if asked[i]:
            return False
        asked[i] = True
        return resolves(i)

    wk, wname = w.kind, w.name
    # 1. The exact type.
    for i, b in enumerate(branches):
        if b.kind != wk:
            continue
        exact = (
            wname is None
            or b.name is None
            or b.name.fullname == wname.fullname
            or wname.fullname in b.aliases
        )
        if exact and ask(i):
            return i
    # 2. A named branch whose name matches: the last with the writer's unqualified name.
    if wname is not None:
        found: int | None = None
        for i, b in enumerate(branches):
            if b.kind == wk and names_match(w, b) and ask(i):
                same_short = b.name is not None and b.name.name == wname.name
                if found is None or same_short:
                    found = i
        if found is not None:
            return found
    # 3. The first promotion.
    for i, b in enumerate(branches):
        if (wk, b.kind) in PROMOTIONS and ask(i):
            return i
    return None

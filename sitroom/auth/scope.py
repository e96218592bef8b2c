"""Region scope: an account limited to regions sees those regions and everything below them."""
from __future__ import annotations

from sitroom.regions import Gazetteer, RegionError


class Scope:
    """Which regions an account may see; `Scope.ALL` sees every region."""

    def __init__(self, codes: tuple[str, ...], gaz: Gazetteer | None = None):
        self.codes = tuple(sorted(set(codes)))
        self.visible: frozenset[str] = frozenset()
        self.above: frozenset[str] = frozenset()   # the regions that hold the scope's (its province ...)
        if self.codes and gaz is not None:
            self.visible = frozenset(c for c in gaz.regions if any(_within(gaz, c, top) for top in self.codes))
            self.above = frozenset(a for top in self.codes for a in _parents(gaz, top)) - self.visible

    @property
    def unlimited(self) -> bool:
        return not self.codes

    def sees(self, code: str | None) -> bool:
        """A region code (or a prefecture/province) inside the scope; None (not placed) only when unlimited."""
        return self.unlimited or (code is not None and code in self.visible)

    def outlines(self, code: str | None) -> bool:
        """Geography an account may see: its regions' boundaries and those of the regions holding them
        (the outline to drill down from), none of another place; figures only where it `sees`."""
        return self.unlimited or code in self.visible or code in self.above

    def regions(self) -> frozenset[str] | None:
        """The codes for a query's IN (...), or None when unlimited (no filter)."""
        return None if self.unlimited else self.visible

    def key(self) -> tuple[str, ...]:
        return self.codes


Scope.ALL = Scope(())


def _within(gaz: Gazetteer, code: str, top: str) -> bool:
    while code:
        if code == top:
            return True
        region = gaz.regions.get(code)
        code = region.parent if region else None
    return False


def _parents(gaz: Gazetteer, code: str):
    region = gaz.regions.get(code)
    while region is not None and region.parent:
        yield region.parent
        region = gaz.regions.get(region.parent)


def resolve_regions(gaz: Gazetteer, names) -> list[str]:
    """Names, pinyin or codes -> codes; raises ValueError naming the one not found."""
    out = []
    for name in names:
        try:
            out.append(gaz.resolve(name))
        except RegionError as e:
            raise ValueError(f"--region {name}: {e}") from None
    return out

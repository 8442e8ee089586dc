"""Which part of the kernel a path belongs to: the grouping a maintainer reviews by."""

from __future__ import annotations

# Top-level directories that are an area of their own; everything else is "other".
TOP_LEVEL_AREAS = {
    "virt": "virt",
    "include": "include",
    "tools": "tools",
    "Documentation": "Documentation",
}
ARCH_DIR = "arch"


def area_of(path: str) -> str:
    """ "virt", "include", an arch name ("x86", "arm64", "powerpc", ...), "tools",
    "Documentation" or "other"."""
    parts = [p for p in path.strip().lstrip("/").split("/") if p not in ("", ".")]
    if parts and parts[0] in ("a", "b") and len(parts) > 1:
        parts = parts[1:]  # a/ or b/ prefix of a diff header
    if len(parts) >= 3 and parts[0] == ARCH_DIR:
        return parts[1]
    if len(parts) >= 2 and parts[0] in TOP_LEVEL_AREAS:
        return TOP_LEVEL_AREAS[parts[0]]
    return "other"


# The order areas are listed in: generic code first, then arches, then the rest.
AREA_ORDER = ("virt", "include", "x86", "arm64", "powerpc", "s390", "riscv", "loongarch", "mips")


def area_sort_key(area: str) -> tuple[int, str]:
    """Sort key that puts generic code first, the KVM arches next, the rest alphabetically."""
    if area in AREA_ORDER:
        return (AREA_ORDER.index(area), area)
    if area in ("tools", "Documentation", "other"):
        return (len(AREA_ORDER) + 2 + ("tools", "Documentation", "other").index(area), area)
    return (len(AREA_ORDER) + 1, area)

"""The diff layer: the patch model, areas of paths, and function images from hunks alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.cparse import parse_c
from reviewtool.diff import (
    area_of,
    function_images,
    function_name_from_header,
    parse_patch_diff,
)
from reviewtool.errors import InputError
from tests.helpers.git import git as _git

DATA = Path(__file__).parent / "data" / "c"


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("virt/kvm/kvm_main.c", "virt"),
        ("include/linux/kvm_host.h", "include"),
        ("arch/x86/kvm/mmu/mmu.c", "x86"),
        ("arch/x86/include/asm/kvm_host.h", "x86"),
        ("arch/arm64/kvm/mmu.c", "arm64"),
        ("arch/powerpc/kvm/book3s_64_mmu_radix.c", "powerpc"),
        ("arch/riscv/kvm/mmu.c", "riscv"),
        ("tools/testing/selftests/kvm/lib/kvm_util.c", "tools"),
        ("Documentation/virt/kvm/api.rst", "Documentation"),
        ("mm/gup.c", "other"),
        ("MAINTAINERS", "other"),
        ("b/arch/s390/kvm/gaccess.c", "s390"),
    ],
)
def test_area_of_groups_paths_as_a_maintainer_does(path: str, area: str) -> None:
    assert area_of(path) == area


def _diff_of(tmp_path: Path, before: dict[str, str], after: dict[str, str]) -> str:
    """A real `git diff` between two states of a few files."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for path, text in before.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    for path, text in after.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    _git(repo, "add", "-A")
    return _git(repo, "diff", "--cached")


BEFORE = (DATA / "kvm_main_before.c").read_text()
AFTER = (DATA / "kvm_main_after.c").read_text()


def test_parse_patch_diff_reads_files_hunks_and_status(tmp_path: Path) -> None:
    _diff_of(
        tmp_path,
        {"virt/kvm/kvm_main.c": BEFORE, "arch/x86/kvm/gone.c": "int x;\n"},
        {"virt/kvm/kvm_main.c": AFTER, "arch/arm64/kvm/new.c": "int y;\n"},
    )
    (tmp_path / "repo" / "arch/x86/kvm/gone.c").unlink()
    diff = _git(tmp_path / "repo", "diff", "HEAD")
    patch = parse_patch_diff(diff + "-- \n2.41.0\n")
    by_path = {f.path: f for f in patch.files}
    assert by_path["virt/kvm/kvm_main.c"].status == "modified"
    assert by_path["arch/x86/kvm/gone.c"].status == "deleted"
    assert by_path["arch/arm64/kvm/new.c"].status == "added"
    assert by_path["arch/arm64/kvm/new.c"].area == "arm64"
    removed = [line.text for line in by_path["virt/kvm/kvm_main.c"].removed_lines()]
    assert any("__gfn_to_pfn_memslot(" in text for text in removed)


def test_parse_patch_diff_rejects_garbage_with_a_typed_error() -> None:
    with pytest.raises(InputError):
        parse_patch_diff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n")


def _images(tmp_path: Path, context: int = 3):
    _diff_of(tmp_path, {"virt/kvm/kvm_main.c": BEFORE}, {"virt/kvm/kvm_main.c": AFTER})
    diff = _git(tmp_path / "repo", "diff", "--cached", f"-U{context}")
    return function_images(diff)


def test_hunk_images_find_every_call_on_its_real_line(tmp_path: Path) -> None:
    images = _images(tmp_path)
    before, after = parse_c(BEFORE), parse_c(AFTER)
    seen_old, seen_new = [], []
    for image in images:
        for call in parse_c(image.old_padded()).calls("__gfn_to_pfn_memslot"):
            seen_old.append((call.line, image.function))
        for call in parse_c(image.new_padded()).calls("__kvm_follow_pfn"):
            seen_new.append((call.line, image.function))
    assert sorted(seen_old) == [(c.line, c.function) for c in before.calls("__gfn_to_pfn_memslot")]
    assert sorted(seen_new) == [(c.line, c.function) for c in after.calls("__kvm_follow_pfn")]


def test_hunk_image_starting_inside_a_function_is_partial(tmp_path: Path) -> None:
    images = _images(tmp_path, context=1)
    callers = {c.function for c in parse_c(BEFORE).calls("__gfn_to_pfn_memslot")}
    partial = [i for i in images if i.function in callers]
    assert {i.function for i in partial} == callers
    assert all(not i.complete for i in partial)
    for image in partial:
        real = parse_c(BEFORE).enclosing_function(image.removed_lines[0])
        assert real is not None and real.name == image.function


def test_hunk_image_showing_a_whole_function_is_complete(tmp_path: Path) -> None:
    images = _images(tmp_path, context=40)
    by_name = {}
    for image in images:
        by_name.setdefault(image.function, image)
    definition = parse_c(BEFORE).definitions("__gfn_to_pfn_memslot")[0]
    old_image = by_name["__gfn_to_pfn_memslot"]
    assert old_image.old_complete and old_image.old_start == definition.start_line
    new_image = by_name["__kvm_follow_pfn"]
    assert new_image.new_complete
    assert new_image.new_start == parse_c(AFTER).definitions("__kvm_follow_pfn")[0].start_line
    assert by_name["gfn_to_pfn_memslot"].complete


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (
            "static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *f)",
            "FNAME(page_fault)",
        ),
        (
            "kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,",
            "__gfn_to_pfn_memslot",
        ),
        (
            "static __always_inline bool kvm_is_zone_device_page(struct page *page)",
            "kvm_is_zone_device_page",
        ),
        ("int kvm_vcpu_map(struct kvm_vcpu *vcpu, gpa_t gpa, struct kvm_host_map *map);", None),
        ("struct kvm_follow_pfn {", None),
        ("#define KVM_PFN_ERR_NEEDS_IO (KVM_PFN_ERR_MASK + 3)", None),
    ],
)
def test_function_name_from_header_reads_kernel_definitions(header: str, name: str | None) -> None:
    assert function_name_from_header(header) == name


def test_non_c_files_give_file_scope_images(tmp_path: Path) -> None:
    doc = "KVM maps guest memory with __gfn_to_pfn_memslot().\n" * 3
    diff = _diff_of(
        tmp_path,
        {"Documentation/virt/kvm/locking.rst": doc},
        {"Documentation/virt/kvm/locking.rst": doc.replace("__gfn", "__kvm", 1)},
    )
    (image,) = function_images(diff)
    assert image.function is None and not image.complete
    assert image.removed_lines == [1] and image.added_lines == [1]

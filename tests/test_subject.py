"""Subject prefixes: the union of what b4 and Patchwork get right, and what both miss."""

import pytest

from reviewtool.mail.subject import is_patch_prefix, parse_subject


@pytest.mark.parametrize(
    ("subject", "version", "index", "total", "flags", "title"),
    [
        (
            "[PATCH v8 3/8] KVM: mmu: Make __kvm_follow_pfn not imply FOLL_GET",
            8,
            3,
            8,
            set(),
            "KVM: mmu: Make __kvm_follow_pfn not imply FOLL_GET",
        ),
        ("[PATCHv3 2/5] x", 3, 2, 5, set(), "x"),
        ("[PATCH v6,19/24] x", 6, 19, 24, set(), "x"),
        ("[PATCH 1 of 3] x", 1, 1, 3, set(), "x"),
        ("[RFC PATCH net-next v2 0/3] x", 2, 0, 3, {"RFC"}, "x"),
        ("[PATCH RESEND v4 1/2] x", 4, 1, 2, {"RESEND"}, "x"),
        (
            "[PATCH 01/84] KVM: Drop KVM_ERR_PTR_BAD_PAGE",
            1,
            1,
            84,
            set(),
            "KVM: Drop KVM_ERR_PTR_BAD_PAGE",
        ),
        ("[RFCv2 PATCH 3/4] x", 2, 3, 4, {"RFC"}, "x"),
        ("[PATCH V4 3/4] KVM: x86: Add a capability", 4, 3, 4, set(), "KVM: x86: Add a capability"),
    ],
)
def test_prefix_fields(subject, version, index, total, flags, title):
    prefix = parse_subject(subject)
    assert (prefix.version, prefix.index, prefix.total) == (version, index, total)
    assert set(prefix.flags) == flags
    assert prefix.title == title
    assert not prefix.reply


def test_tag_kept_beside_flags():
    prefix = parse_subject("[RFC PATCH net-next v2 0/3] x")
    assert prefix.tags == ("net-next",)


def test_point_revision_is_version_and_point():
    prefix = parse_subject("[PATCH v5.1 10/12] KVM: x86: fix it")
    assert (prefix.version, prefix.point, prefix.index, prefix.total) == (5, 1, 10, 12)
    assert prefix.label == "v5.1"


def test_version_after_title_is_explicit():
    prefix = parse_subject("[PATCH] KVM: fix a leak (v2)")
    assert prefix.version == 2 and prefix.version_explicit
    assert prefix.title == "KVM: fix a leak"
    assert not prefix.counters_explicit


def test_missing_version_and_counters_are_inferred():
    prefix = parse_subject("[PATCH] KVM: fix a leak")
    assert prefix.version == 1 and not prefix.version_explicit
    assert prefix.index is None and not prefix.counters_explicit
    assert is_patch_prefix(prefix)


@pytest.mark.parametrize("lead", ["Re: ", "RE: Re: ", "Aw: ", "AW: ", "Sv: ", "Re[2]: "])
def test_reply_prefixes(lead):
    prefix = parse_subject(f"{lead}[PATCH v8 3/8] x")
    assert prefix.reply and (prefix.version, prefix.index) == (8, 3)


def test_forward_is_not_a_reply():
    prefix = parse_subject("Fwd: [PATCH v2 1/2] x")
    assert prefix.forward and not prefix.reply and prefix.version == 2


def test_nested_brackets_and_list_tag():
    prefix = parse_subject("[kvm] Re: [PATCH [net] v2 1/3] x")
    assert prefix.reply
    assert (prefix.version, prefix.index, prefix.total) == (2, 1, 3)
    assert "kvm" in prefix.tags and "net" in prefix.tags


def test_plain_subject_has_no_prefix():
    prefix = parse_subject("KVM call for agenda")
    assert not is_patch_prefix(prefix)
    assert prefix.title == "KVM call for agenda"


def test_unbalanced_bracket_does_not_crash():
    prefix = parse_subject("[PATCH v2 1/3 broken")
    assert prefix.title == "[PATCH v2 1/3 broken"

"""Real list mail from ../shared/corpus, grouped as a maintainer would group it."""

from __future__ import annotations

import pytest

from reviewtool.ingest import load


@pytest.fixture
def apic(corpus_dir):
    return load([str(corpus_dir / "kvm-apic-bus-freq")])


@pytest.fixture
def tracepoints(corpus_dir):
    return load([str(corpus_dir / "kvm-tracepoint-updates")])


def test_apic_series_is_one_series_of_three_versions_despite_author_change(apic):
    assert len(apic.series) == 1
    series = apic.series[0]
    assert [r.label for r in series.revisions] == ["v3", "v4", "v5"]
    assert all(r.total == 4 and not r.missing and r.cover for r in series.revisions)
    assert series.title == "KVM: x86: Make bus clock frequency for vAPIC timer configurable"
    assert series.revisions[0].author.startswith("Isaku Yamahata")
    assert series.revisions[1].author.startswith("Reinette Chatre")
    # patches keep the in-body From of the original author
    assert series.revisions[2].patch(1).author.startswith("Isaku Yamahata")


def test_apic_accounting_adds_up(apic):
    acc = apic.accounting
    assert (acc.read, acc.cover, acc.patch, acc.reply, acc.other) == (24, 3, 12, 9, 0)
    assert acc.rejected == [] and acc.balanced()


def test_apic_v5_changelog_has_every_earlier_step(apic):
    v5 = apic.series[0].revision("v5")
    steps = [(s.from_version, s.to_version) for s in v5.cover.changelog]
    assert steps == [(4, 5), (3, 4), (2, 3), (1, 2)]
    assert "Add Rick's Reviewed-by tags." in v5.cover.changelog[0].items
    assert v5.cover.changelog[0].links == [
        "https://lore.kernel.org/lkml/cover.1711035400.git.reinette.chatre@intel.com/"
    ]


def test_apic_review_trailers_come_from_replies_including_base64_ones(apic, corpus_dir):
    v3, v4, _ = apic.series[0].revisions
    # Maxim reviewed v3 1/4 from his work address with his personal one in the trailer:
    # b4 reports that trailer and does not apply it unless --sloppy-trailers.
    assert v3.patch(1).review_trailers == []
    ignored = v3.patch(1).ignored_trailers
    assert [(i.trailer.email, i.sender) for i in ignored] == [
        ("maximlevitsky@gmail.com", "Maxim Levitsky <mlevitsk@redhat.com>")
    ]
    sloppy = load([str(corpus_dir / "kvm-apic-bus-freq")], sloppy_trailers=True)
    maxim = {(t.name, t.email) for t in sloppy.series[0].revisions[0].patch(1).review_trailers}
    assert maxim == {("Reviewed-by", "maximlevitsky@gmail.com")}
    for index in (1, 2, 3):
        given = {t.email for t in v4.patch(index).review_trailers}
        assert "rick.p.edgecombe@intel.com" in given, index
    assert v4.patch(4).review_trailers == []
    assert v4.patch(3).replies == 2  # Rick and Xiaoyao


def test_apic_v3_3_4_review_by_sean_arrives_months_later_and_counts(apic):
    v3 = apic.series[0].revision("v3")
    assert v3.patch(3).replies == 1


def test_apic_applied_reply_is_a_reply_to_the_v5_cover(apic):
    v5 = apic.series[0].revision("v5")
    assert v5.cover is not None
    assert apic.orphan_replies == []


def test_tracepoint_v4_one_line_changelog(tracepoints):
    series = tracepoints.series[0]
    assert [r.label for r in series.revisions] == ["v3", "v4"]
    v3, v4 = series.revisions
    assert v3.cover.changelog == []
    assert [(s.from_version, s.to_version, s.items) for s in v4.cover.changelog] == [
        (3, 4, ["addressed review feedback"])
    ]


def test_tracepoint_quoted_printable_cover_has_no_carriage_returns(tracepoints):
    v3 = tracepoints.series[0].revisions[0]
    assert "\r" not in v3.cover.mail.body
    assert "tracepoints" in v3.cover.mail.body


def test_tracepoint_reply_with_its_own_diff_is_a_reply_not_a_patch(tracepoints):
    v3 = tracepoints.series[0].revisions[0]
    assert [p.index for p in v3.patches] == [1, 2, 3, 4]
    assert v3.patch(1).replies == 1
    assert {t.email for t in v3.patch(2).review_trailers} == {"pbonzini@redhat.com"}
    acc = tracepoints.accounting
    assert (acc.cover, acc.patch, acc.reply) == (2, 8, 2)


def test_both_series_together_stay_two_series(corpus_dir):
    collection = load([str(corpus_dir)])
    assert sorted(len(s.revisions) for s in collection.series) == [2, 3]
    assert collection.accounting.read == 36


def test_tracepoint_v4_catch_all_changelog_is_vague_not_false(tracepoints):
    from reviewtool.analyses.changelog_check import compare

    v3, v4 = tracepoints.series[0].revisions
    comparison = compare(v3, v4)
    assert [v.verdict for v in comparison.changelog] == ["vague"]
    # Paolo's suggested svm.c change and the 4/4 mask change are code changes nobody listed.
    assert {u.to_index for u in comparison.undocumented} >= {1, 4}


def test_apic_changelog_claims_about_tags_cover_and_messages_are_checked(apic):
    from reviewtool.analyses.changelog_check import compare

    v3, v4, v5 = apic.series[0].revisions
    by_item = {v.item: v for v in compare(v4, v5).changelog}
    assert by_item["Add Rick's Reviewed-by tags."].verdict == "confirmed"
    assert {e.to_index for e in by_item["Add Rick's Reviewed-by tags."].evidence} == {1, 2, 3}
    assert by_item['Include "Testing" section in cover letter.'].verdict == "confirmed"
    earlier = {v.item.split(" ", 2)[1]: v.verdict for v in compare(v3, v4).changelog}
    assert earlier["all"] == "confirmed"  # "Reworked all changelogs.": messages reworded
    assert earlier["refer"] == "vague"  # "Please refer to individual patches ..."
    tags = next(v for v in compare(v3, v4).changelog if v.item.startswith("Added Reviewed-by"))
    assert tags.verdict == "confirmed"
    assert 3 in {e.to_index for e in tags.evidence}  # Maxim's tag removed from 3/4

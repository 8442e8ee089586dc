"""The verdict block, review comments and replies as the HTML page shows them (plain values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewtool.render.sections import patch_anchor
from reviewtool.render.view import MailLinks, fmt_date, person_name
from reviewtool.review.model import SeriesReview
from reviewtool.review.verdict import CHECKED, SeriesVerdict

if TYPE_CHECKING:
    from reviewtool.analyses.followup import ReviewComment
    from reviewtool.mail.model import Mail

# Lines of a reply's own text shown under a patch (the rest is one click away, in the archive).
REPLY_LINES = 4
# Quoted patch lines shown with a review comment.
QUOTED_LINES = 8
COMMENT_CLASSES = {
    "changed": "ok",
    "unchanged": "bad",
    "pending": "warn",
    "patch-dropped": "info",
    "unclear": "muted",
}


def reply_view(mail: Mail, links: MailLinks) -> dict[str, Any]:
    """One reply under a patch or cover: who, when, the trailers they gave, their first lines."""
    from reviewtool.analyses.followup import own_text

    return {
        "author": person_name(mail.author),
        "author_full": mail.author,
        "date": fmt_date(mail.date),
        "message_id": mail.message_id,
        "url": links.url(mail.message_id),
        "trailers": [f"{t.name}: {person_name(t.value)}" for t in mail.trailers],
        "lines": [line for line in own_text(mail.body) if line.strip()][:REPLY_LINES],
    }


def comment_view(
    comment: ReviewComment, prefix: str, links: MailLinks, sr: SeriesReview
) -> dict[str, Any]:
    """One review point with its verdict in the next version and the author's answers."""
    revision = sr.series.revision(comment.version)
    patch = revision.patch(comment.patch_index) if revision and comment.patch_index else None
    following = sr.series.revision(comment.next_version) if comment.next_version else None
    next_patch = (
        following.patch(comment.next_patch_index)
        if following is not None and comment.next_patch_index
        else None
    )
    return {
        "author": person_name(comment.author),
        "date": fmt_date(comment.date),
        "url": links.url(comment.message_id),
        "message_id": comment.message_id,
        "version": comment.version,
        "patch_index": comment.patch_index,
        "patch_anchor": patch_anchor(prefix, revision, patch) if patch else "",
        "quoted": comment.quoted[:QUOTED_LINES],
        "more_quoted": max(len(comment.quoted) - QUOTED_LINES, 0),
        "text": comment.text,
        "verdict": comment.verdict,
        "tone": COMMENT_CLASSES.get(comment.verdict, "muted"),
        "evidence": comment.evidence,
        "open": comment.open,
        "next_version": comment.next_version,
        "next_anchor": patch_anchor(prefix, following, next_patch) if next_patch else "",
        "answers": [
            {
                "author": person_name(a.author),
                "date": fmt_date(a.date),
                "url": links.url(a.message_id),
                "stance": a.stance,
                "first": a.text.strip().split("\n")[0] if a.text.strip() else "",
            }
            for a in comment.answers
        ],
    }


def verdict_view(
    verdict: SeriesVerdict,
    sr: SeriesReview,
    prefix: str,
    links: MailLinks,
    comparisons: list[dict[str, Any]],
    findings: dict[str, Any],
) -> dict[str, Any]:
    """The verdict block of one series, each statement linked to the mail or section it rests
    on, each part carrying its state (checked / partial / not-checked) and reason."""
    judged = sr.series.revision(verdict.judged) if verdict.judged else None
    cmp_view = next((c for c in comparisons if c["to"] == verdict.judged), None)
    cards = (findings.get("latest") or {}).get("cards") or []
    return {
        "latest": verdict.latest,
        "judged": verdict.judged,
        "previous": verdict.previous,
        "judged_date": fmt_date(judged.date) if judged else "",
        "judged_count": len(judged.patches) if judged else 0,
        "judged_url": links.url(judged.cover.message_id) if judged and judged.cover else "",
        "cover_only": [
            {
                "label": r.label,
                "date": fmt_date(r.date),
                "total": r.total,
                "url": links.url(r.cover.message_id) if r.cover else "",
            }
            for r in verdict.cover_only
        ],
        "findings": {
            "state": verdict.findings.state,
            "reason": verdict.findings.reason,
            "entries": [
                {
                    "severity": f.severity,
                    "rule": f.rule,
                    "where": f"{f.file}:{f.line}" + (f" in {f.function}()" if f.function else ""),
                    "message": f.message,
                    "patch_index": f.patch_index,
                    "anchor": _card_anchor(cards, f.rule, f.file, f.line),
                    "patch_url": _patch_url(judged, f.patch_index, links),
                }
                for f in verdict.introduced
            ],
            "not_checked": len(verdict.not_checked),
        },
        "changelog": {
            "state": verdict.changelog.state,
            "reason": verdict.changelog.reason,
            "entries": [{"item": v.item, "reason": v.reason} for v in verdict.claims_not_found],
            "anchor": f"{cmp_view['anchor']}-changelog" if cmp_view else "",
            "checked": bool(cmp_view and cmp_view["changelog"]),
            "breakdown": _verdict_counts(cmp_view["changelog"] if cmp_view else []),
        },
        "comments": {
            "state": verdict.comments.state,
            "reason": verdict.comments.reason,
            "entries": [comment_view(c, prefix, links, sr) for c in verdict.open_comments],
            "seen": verdict.comments_seen,
            "breakdown": ", ".join(
                f"{n} {name}" for name, n in sorted(verdict.comments_by_verdict.items())
            ),
        },
        "reviews": {
            "state": verdict.reviews.state,
            "reason": verdict.reviews.reason,
            "entries": [
                {
                    "index": p.index,
                    "title": p.title,
                    "anchor": patch_anchor(prefix, judged, p),
                    "url": links.url(p.message_id),
                }
                for p in verdict.unreviewed
            ],
            "stale": [
                {
                    "index": p.index,
                    "title": p.title,
                    "anchor": patch_anchor(prefix, judged, p),
                    "url": links.url(p.message_id),
                    "given": ", ".join(
                        f"{t.name}: {person_name(t.value)}" for t in p.carried_over_changed
                    ),
                    "given_full": ", ".join(f"{t.name}: {t.value}" for t in p.carried_over_changed),
                }
                for p in verdict.stale_reviews
            ],
            "total": len(judged.patches) if judged else 0,
        },
        "changes": {
            "state": verdict.comparison.state,
            "reason": verdict.comparison.reason,
            "anchor": cmp_view["anchor"] if cmp_view else "",
            "entries": [
                {
                    "index": c.index,
                    "title": c.title,
                    "change": c.change or "—",
                    "tone": _change_tone(c.change),
                    "detail": c.detail,
                    "from_index": c.from_index,
                    "href": _change_href(cmp_view, c.index, c.change) if cmp_view else "",
                    "url": links.url(c.message_id),
                }
                for c in verdict.changes
            ],
            "dropped": [{"index": i, "title": t} for i, t in verdict.dropped],
        },
        "checked": CHECKED,
    }


def _verdict_counts(items: list[dict[str, Any]]) -> str:
    """`3 confirmed, 1 vague` over the changelog items of one step."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item["verdict"]] = counts.get(item["verdict"], 0) + 1
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


def _card_anchor(cards: list[dict[str, Any]], rule: str, file: str, line: int) -> str:
    for card in cards:
        if (card["rule"], card["file"], card["line"]) == (rule, file, line):
            return str(card["anchor"])
    return ""


def _patch_url(judged: Any, index: int | None, links: MailLinks) -> str:
    patch = judged.patch(index) if judged is not None and index else None
    return links.url(patch.message_id) if patch is not None else ""


def _change_tone(change: str) -> str:
    return {
        "identical": "muted",
        "message-only": "info",
        "code-changed": "warn",
        "added": "info",
    }.get(change, "muted")


def _change_href(cmp_view: dict[str, Any], index: int, change: str) -> str:
    if change in ("identical", ""):
        return ""
    return f"{cmp_view['anchor']}-p{index}"

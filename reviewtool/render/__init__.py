"""Renderers: they read a `reviewtool.review.Review` and never run an analysis.

render_html(review) -> str                      reviewtool.render.html (templates/)
render_text(review, color=False) -> str         reviewtool.render.text
render_json(review, indent=2) -> str            reviewtool.render.jsonout
render_email_summary(review, label, report_url=None) -> str
                                                reviewtool.render.email (<= 72 columns)
ProgressBar(label, stream=None) / Progress      reviewtool.render.progress
"""

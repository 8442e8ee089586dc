"""Mail layer: one decoded message (headers, body, subject prefix, trailers, diff part)."""

from reviewtool.mail.model import Mail, SubjectPrefix, Trailer
from reviewtool.mail.parse import parse_mail
from reviewtool.mail.subject import parse_subject

__all__ = ["Mail", "SubjectPrefix", "Trailer", "parse_mail", "parse_subject"]

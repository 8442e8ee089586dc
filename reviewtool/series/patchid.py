"""`git patch-id --stable` of a patch (the computation lives in the mail layer, beside the
diff it reads, so a mail keeps its id after its text is dropped)."""

from reviewtool.mail.patchid import patch_id

__all__ = ["patch_id"]

"""What the sanitiser knows about kernel C: attribute names, attribute macros, iterator macros.

tree-sitter-c parses ISO C plus a few GNU extensions; the kernel adds a vocabulary of macros that
expand to attributes, to `for` loops or to types. These tables name them; the sanitiser blanks
or rewrites them with text of the same length so lines and columns stay those of the real file.
"""

from __future__ import annotations

import re

# Bare words that expand to attributes, storage hints or address-space markers. Blanking them
# leaves valid C behind; left in place, tree-sitter takes them for types and loses the function.
# Every entry here and in ATTRIBUTE_CALLS starts with `__`, `asmlinkage`, `noin` or `notrace`:
# the sanitiser's one-pass candidate search relies on it.
ATTRIBUTE_WORDS = frozenset(
    {
        "__always_inline",
        "__always_unused",
        "__attribute_const__",
        "__cacheline_aligned",
        "__cacheline_aligned_in_smp",
        "____cacheline_aligned",
        "____cacheline_aligned_in_smp",
        "__cold",
        "__cpuidle",
        "__data_racy",
        "__exit",
        "__flatten",
        "__force",
        "__hot",
        "__init",
        "__initconst",
        "__initdata",
        "__iomem",
        "__kprobes",
        "__latent_entropy",
        "__maybe_unused",
        "__meminit",
        "__must_check",
        "__nocfi",
        "__noclone",
        "__noendbr",
        "__no_kcsan",
        "__no_sanitize_address",
        "__no_stack_protector",
        "__noreturn",
        "__packed",
        "__percpu",
        "__private",
        "__pure",
        "__randomize_layout",
        "__rcu",
        "__read_mostly",
        "__ref",
        "__ro_after_init",
        "__sched",
        "__user",
        "__visible",
        "__weak",
        "__bitwise",
        "__safe",
        "__used",
        "asmlinkage",
        "noinline",
        "noinline_for_stack",
        "noinstr",
        "notrace",
        "__noinline",
        "__always_inline_kvm",
    }
)

# Attribute macros that take an argument list: the word and its parenthesised arguments go.
ATTRIBUTE_CALLS = frozenset(
    {
        "__acquires",
        "__aligned",
        "__alloc_size",
        "__attribute__",
        "__attribute",
        "__cond_acquires",
        "__cond_releases",
        "__counted_by",
        "__diagnose_as",
        "__must_hold",
        "__printf",
        "__releases",
        "__scanf",
        "__section",
        "__no_sanitize_or_inline",
    }
)

# Statement macros that open a loop or a scope like `for` does: `list_for_each_entry(...) {`.
ITERATOR_RE = re.compile(r"\w*for_each\w*|scoped_guard|scoped_cond_guard|\w*_foreach\w*")


# A bare type handed to a macro as an argument: `container_of(p, struct kvm_vcpu, arch)`,
# `min_t(unsigned long, a, b)`. Written with underscores it is a plain identifier.
TYPE_ARGUMENT_RE = re.compile(
    r"(?<=[(,])(\s*)((?:struct|union|enum)[ \t]+[A-Za-z_]\w*"
    r"|(?:unsigned|signed)(?:[ \t]+(?:long|int|char|short))+|long[ \t]+(?:long|int))(?=\s*[,)])"
)

# Words that look like a function name in front of `(` but are not one.
NOT_FUNCTION_NAMES = frozenset(
    {
        "if",
        "for",
        "while",
        "switch",
        "return",
        "sizeof",
        "typeof",
        "__typeof__",
        "defined",
        "__attribute__",
        "alignof",
        "_Alignof",
    }
)

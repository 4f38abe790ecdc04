"""Password hashing and the rules a new password must pass.

Hashes are werkzeug's scrypt (memory-hard). The rules follow NIST SP 800-63B:
a minimum length, no composition rules, and a check against passwords that
attackers try first.
"""

import functools
import re

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
MAX_LENGTH = 200

# The most used passwords of the big public breach lists, lower-cased; a password
# is refused when it, or it stripped of trailing digits and symbols, is here.
COMMON_PASSWORDS = frozenset(
    """
    123456 123456789 12345678 password qwerty123 qwerty 111111 12345 123123 1234567890
    1234567 000000 1q2w3e4r 1q2w3e4r5t abc123 password1 password123 iloveyou 1qaz2wsx
    qwertyuiop 123321 654321 666666 7777777 987654321 admin admin123 administrator
    welcome welcome1 letmein monkey dragon football baseball basketball soccer hockey
    master shadow sunshine princess superman batman starwars trustno1 whatever
    passw0rd p@ssw0rd p@ssword pa55word secret secret123 login changeme default
    qazwsx zaq12wsx asdfgh asdfghjkl zxcvbnm zxcvbnm123 qwe123 qweasd qweasdzxc
    michael jennifer jordan hunter ranger buster thomas robert daniel charlie
    andrew matthew jessica ashley amanda harley maggie ginger pepper summer
    freedom whatever1 computer internet samsung google apple microsoft linux
    ninja mustang access flower hello hello123 loveme lovely love123 iloveyou1
    killer cheese chocolate cookie banana orange pokemon naruto minecraft
    fuckyou fuckoff 696969 121212 112233 123qwe 1234qwer qwer1234 q1w2e3r4
    q1w2e3r4t5 aa123456 a123456 123456a abcd1234 abcdef abcdefg 1a2b3c4d
    newsdesk newsdesk123 wordpress drupal joomla
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

_KEYBOARD_RUNS = ("0123456789", "9876543210", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghij")


def hash_password(password):
    return generate_password_hash(password)


def verify_password(password_hash, password):
    """Whether `password` matches; takes as long when there is no account to check."""
    return check_password_hash(password_hash or _unmatchable_hash(), password)


@functools.cache
def _unmatchable_hash():
    return generate_password_hash("no account has this password")


def password_problem(password, *personal):
    """Why `password` is refused, or None. `personal`: the account's email, name…"""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    core = re.sub(r"[\d\W_]+$", "", lowered)
    if lowered in COMMON_PASSWORDS or core in COMMON_PASSWORDS:
        return "This password is among the most commonly used ones. Choose another."
    if len(set(lowered)) <= 2 or any(lowered in run * 2 for run in _KEYBOARD_RUNS):
        return "This password is too easy to guess. Choose another."
    for word in personal:
        word = (word or "").lower().split("@")[0]
        if len(word) >= 4 and word in lowered:
            return "Don't use your name or email address in your password."
    return None

"""Passwords long enough for the length rule that are still among the first an attacker
tries: keyboard walks, digit runs, and words with a year or digits appended.

Compared lower-case. A small list on purpose (the length rule does most of the
work); it keeps the obvious choices out, not every weak one.
"""
from __future__ import annotations

COMMON_PASSWORDS = frozenset({
    "000000000000", "111111111111", "112233445566", "121212121212", "123123123123", "123412341234",
    "123456123456", "123456789000", "123456789012", "1234567890123", "12345678901234", "123456789987",
    "123456654321", "1234567890ab", "1234567890qw", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u", "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv", "987654321012", "abc123456789", "abcd12345678", "abcdefghijkl", "abcdefgh1234",
    "aaaaaaaaaaaa", "qqqqqqqqqqqq", "asdfasdfasdf", "asdfghjkl123", "asdfghjklöä1", "qazwsxedcrfv",
    "qwerasdfzxcv", "qwertyuiop12", "qwertyuiop123", "qwertyuiopasdf", "qwertzuiop12", "qwertzuiop123",
    "qwertzuiopü1", "qwerty123456", "qwertz123456", "zxcvbnm12345", "yxcvbnm12345",
    "password1234", "password12345", "password123!", "password2024", "password2025", "password2026",
    "passwordpassword", "passw0rd1234", "p@ssw0rd1234", "p@ssword1234", "mypassword12", "mypassword123",
    "passwort1234", "passwort12345", "passwort123!", "passwort2024", "passwort2025", "passwort2026",
    "passwortpasswort", "meinpasswort", "meinpasswort1", "meinpasswort123", "geheim123456", "geheimgeheim",
    "sicherheit12", "sicherespasswort", "kennwort1234", "kennwort12345",
    "iloveyou1234", "iloveyou12345", "ichliebedich", "ichliebedich1", "letmein12345", "letmeinletmein",
    "welcome12345", "welcome123456", "willkommen12", "willkommen123", "willkommen1234", "hallo1234567",
    "hallohallo12", "hallo12345678", "changeme1234", "changemenow!", "administrator", "administrator1",
    "admin1234567", "adminadmin12", "rootroot1234", "trustno11234", "football1234", "fussball1234",
    "baseball1234", "superman1234", "batman123456", "starwars1234", "pokemon12345", "dragon123456",
    "sunshine1234", "princess1234", "monkey123456", "shadow123456", "master123456", "michael12345",
    "sommer202424", "sommer2024!!", "winter2024!!", "fruehling2024", "herbst2024!!", "januar2025!!",
    "deutschland1", "deutschland12", "deutschland123", "berlin123456", "muenchen1234", "hamburg12345",
    "schalke04schalke", "borussia1909", "bayern123456", "fcbayern1900",
    "firma1234567", "company12345", "service12345", "kundenservice", "vertrieb1234", "innendienst1",
    "loyalty12345", "touchpoint12", "touchpoint123", "audit1234567", "audit2026!!!", "manager12345",
    "leadership12", "correcthorsebatterystaple",
})

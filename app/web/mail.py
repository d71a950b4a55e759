"""Plain-text e-mail through the SMTP server the configuration names (``MAIL_*``).

Without ``MAIL_SERVER`` nothing is sent and :func:`mail_configured` says so; callers
then rely on what the pages show. A failing server is logged, never raised to a page.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app


def mail_configured() -> bool:
    """Is an SMTP server configured?"""
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; True when the server accepted it."""
    config = current_app.config
    if not config.get("MAIL_SERVER") or not to:
        return False
    message = EmailMessage()
    message["From"] = formataddr(("Loyalty audit", config.get("MAIL_FROM") or "loyalty-audit@localhost"))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="loyalty-audit")
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
                          timeout=config.get("MAIL_TIMEOUT") or 10) as smtp:
            if config.get("MAIL_STARTTLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("mail to %s not sent: %s", to, exc)
        return False
    return True

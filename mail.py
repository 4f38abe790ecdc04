"""Outgoing mail: every message the site sends goes through `send`.

Links in mail are absolute and come from SITE_URL, never from the request that caused
the message (a client chooses its Host header): `configured()` is false without it.
A site without a mail server writes each message to the log instead, so a developer's
demo can still follow a confirmation link.
"""

import smtplib
from email.message import EmailMessage

from flask import current_app


class MailError(Exception):
    """The mail server could not be reached or refused the message."""


def configured():
    config = current_app.config
    return bool(config.get("MAIL_SERVER") and config.get("SITE_URL"))


def send(to, subject, text):
    """Send a plain-text message to `to`; raises MailError when the server fails."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message.set_content(text)
    if not configured():
        current_app.logger.warning(
            "No MAIL_SERVER and SITE_URL: this message was not sent.\n%s", message
        )
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(str(error)) from error

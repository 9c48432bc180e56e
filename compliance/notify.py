"""Partner summaries by e-mail: one message per partner, to the contacts in its rule file.

The plain-text part is the Markdown summary; the HTML part is rendered by Jinja2 with
autoescaping. Without ``--send`` the messages are written as ``.eml`` files; with it they go
out by SMTP, configured by environment variables:

- ``COMPLIANCE_SMTP_HOST`` (required), ``COMPLIANCE_SMTP_PORT`` (default 25, or 587 with
  STARTTLS), ``COMPLIANCE_SMTP_STARTTLS`` (``1`` to upgrade the connection),
  ``COMPLIANCE_SMTP_USER`` and ``COMPLIANCE_SMTP_PASSWORD`` (optional login),
  ``COMPLIANCE_MAIL_FROM`` (default ``compliance@localhost``).
"""

from __future__ import annotations

import io
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2

from .errors import UsageError
from .files import atomic_open
from .formatters import markdown
from .formatters.summary import ReportContext, problems
from .model import PageResult
from .rules import Partner


@cache
def _html() -> jinja2.Template:
    source = resources.files("compliance").joinpath("templates/summary.html.j2")
    return jinja2.Environment(autoescape=True).from_string(source.read_text("utf-8"))


@dataclass(frozen=True)
class Summary:
    partner: str
    recipients: tuple[str, ...]
    message: EmailMessage
    all_clear: bool


def build(partner: Partner, results: list[PageResult], context: ReportContext,
          sender: str) -> Summary | None:
    """The e-mail for one partner, or None when there is nothing to send."""
    failing = [r for r in results if r.status == "fail"]
    unchecked = [r for r in results if r.status == "error"]
    all_clear = not failing and not unchecked
    if all_clear and partner.notify.get("all_clear", True) is False:
        return None
    recipients = tuple(str(c["email"]) for c in partner.contacts)
    if not recipients:
        return None
    text = io.StringIO()
    markdown.render(results, text, context)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(formataddr((str(c.get("name", "")), str(c["email"])))
                              for c in partner.contacts)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="compliance.invalid")
    message["Subject"] = (f"Licence compliance: all {len(results)} reprints in order"
                          if all_clear else
                          f"Licence compliance: {len(failing)} of {len(results)} reprints need "
                          "changes")
    message.set_content(text.getvalue())
    message.add_alternative(_html().render(
        name=partner.name, publisher=partner.publisher.name, total=len(results),
        passed=sum(r.status == "pass" for r in results),
        failing=[{"target": r.target, "problems": problems(r)} for r in failing],
        unchecked=unchecked), subtype="html")
    return Summary(partner.id, recipients, message, all_clear)


def smtp_settings(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    env = os.environ if environ is None else environ
    host = env.get("COMPLIANCE_SMTP_HOST")
    if not host:
        raise UsageError("--send needs COMPLIANCE_SMTP_HOST (and optionally COMPLIANCE_SMTP_PORT, "
                         "COMPLIANCE_SMTP_STARTTLS, COMPLIANCE_SMTP_USER, "
                         "COMPLIANCE_SMTP_PASSWORD)")
    starttls = env.get("COMPLIANCE_SMTP_STARTTLS", "") in {"1", "true", "yes"}
    port = env.get("COMPLIANCE_SMTP_PORT") or ("587" if starttls else "25")
    if not port.isdigit():
        raise UsageError(f"COMPLIANCE_SMTP_PORT={port!r} is not a port number")
    return {"host": host, "port": int(port), "starttls": starttls,
            "user": env.get("COMPLIANCE_SMTP_USER"), "password": env.get("COMPLIANCE_SMTP_PASSWORD")}


def send(summaries: list[Summary], settings: Mapping[str, object]) -> dict[str, str]:
    """Deliver every summary; return why, per partner, a message did not go out (the others
    still do)."""
    failures: dict[str, str] = {}
    try:
        smtp = smtplib.SMTP(str(settings["host"]), int(str(settings["port"])), timeout=30)
    except OSError as exc:
        reason = f"cannot connect to SMTP server {settings['host']}:{settings['port']}: {exc}"
        return {summary.partner: reason for summary in summaries}
    with smtp:
        if settings["starttls"]:
            smtp.starttls()
        if settings.get("user"):
            smtp.login(str(settings["user"]), str(settings.get("password") or ""))
        for summary in summaries:
            try:
                smtp.send_message(summary.message, to_addrs=list(summary.recipients))
            except smtplib.SMTPException as exc:
                failures[summary.partner] = f"not delivered: {exc}"
    return failures


def write_eml(summary: Summary, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{summary.partner}.eml"
    with atomic_open(path, "wb") as handle:
        handle.write(bytes(summary.message))
    return path

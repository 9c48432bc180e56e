"""Partner summaries: .eml files, and delivery to a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import os
import socket
import subprocess
import sys
import textwrap
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from .conftest import ROOT, run_cli


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__(message_class=email.message.EmailMessage)
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []

    def handle_message(self, message):  # type: ignore[no-untyped-def]
        recipients = message["X-RcptTo"].split(", ")
        raw = message.as_bytes()
        self.received.append((recipients, email.message_from_bytes(raw, policy=policy.default)))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    result = run_cli("demo", "--reports", str(reports))
    assert result.returncode == 0, result.stderr
    return reports


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd checks its port by connecting, so name one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_summaries_are_written_as_eml_without_send(demo_run):
    result = run_cli("summary", "--reports", str(demo_run))
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert [p.name for p in paths] == ["american-military-news.eml", "coastal-courier.eml",
                                      "danube-daily.eml", "prairie-post.eml"]
    message = email.message_from_bytes(paths[2].read_bytes(), policy=policy.default)
    assert message["To"] == "Web desk <webdesk@danubedaily.example>"
    assert message["Subject"] == "Licence compliance: 2 of 3 reprints need changes"


def test_summaries_arrive_at_a_real_smtp_server(demo_run, smtp, tmp_path):
    inbox, port = smtp
    env = {**os.environ, "COMPLIANCE_SMTP_HOST": "127.0.0.1", "COMPLIANCE_SMTP_PORT": str(port),
           "COMPLIANCE_MAIL_FROM": "Compliance <compliance@publisher.example>"}
    result = subprocess.run([sys.executable, "-m", "compliance.cli", "summary", "--send",
                             "--reports", str(demo_run), "--partner", "prairie-post"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "prairie-post: sent to digital@prairiepost.example\n"
    ((recipients, message),) = inbox.received
    assert recipients == ["digital@prairiepost.example"]
    assert message["From"] == "Compliance <compliance@publisher.example>"
    assert message["Subject"] == "Licence compliance: 1 of 4 reprints need changes"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert plain.startswith("# Licence compliance: Prairie Post\n\nWe checked 4 reprints of The "
                            "Conversation articles on ")
    assert "the photo's caption does not carry the required credit" in plain
    assert "## Pages we could not check" in plain
    assert "<h1 style=\"font-size: 1.3rem\">Licence compliance: Prairie Post</h1>" in html
    assert "What to do: Add &#34;Iowa State University/Handout&#34; to the caption" in html


def test_all_clear_or_nothing_as_the_partner_file_says(tmp_path, smtp):
    inbox, port = smtp
    rules = tmp_path / "rules"
    (rules / "publishers").mkdir(parents=True)
    (rules / "partners").mkdir()
    (rules / "publishers" / "rferl.yaml").write_text(
        (ROOT / "rules" / "publishers" / "rferl.yaml").read_text("utf-8"), "utf-8")
    for partner, all_clear in (("quiet", "false"), ("chatty", "true")):
        (rules / "partners" / f"{partner}.yaml").write_text(textwrap.dedent(f"""
            partner:
              id: {partner}
              name: {partner.title()} News
              contacts: [{{email: desk@{partner}.example}}]
              notify: {{all_clear: {all_clear}}}
            extends: rferl
        """), "utf-8")
    manifest = tmp_path / "m.csv"
    seed = ROOT / "fixtures" / "seed" / "amn-reprint.html"
    original = "https://www.rferl.org/a/trump-putin-meet-g20-osaka/29968834.html"
    manifest.write_text("partner,reprint_url,original_url,photo_credits\n"
                        f"quiet,{seed},{original},(Kremlin/Released)\n"
                        f"chatty,{seed.as_uri()},{original},(Kremlin/Released)\n", "utf-8")
    reports = tmp_path / "reports"
    ran = run_cli("run", "--manifest", str(manifest), "--rules", str(rules), "--reports",
                  str(reports))
    assert ran.returncode == 0, ran.stderr
    env = {**os.environ, "COMPLIANCE_SMTP_HOST": "127.0.0.1", "COMPLIANCE_SMTP_PORT": str(port)}
    result = subprocess.run([sys.executable, "-m", "compliance.cli", "summary", "--send",
                             "--reports", str(reports), "--rules", str(rules)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "quiet: nothing sent (all clear, and its rule file asks for no all-clear message)" \
        in result.stderr
    ((recipients, message),) = inbox.received
    assert recipients == ["desk@chatty.example"]
    assert message["Subject"] == "Licence compliance: all 1 reprints in order"
    assert "Everything is in order: thank you." in message.get_body(("plain",)).get_content()


def test_send_without_smtp_settings_is_a_usage_error(demo_run):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLIANCE_SMTP")}
    result = subprocess.run([sys.executable, "-m", "compliance.cli", "summary", "--send",
                             "--reports", str(demo_run)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("compliance: error: --send needs COMPLIANCE_SMTP_HOST")

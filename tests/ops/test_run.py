"""`make run` runs Mailpit for the demo's mail, where notify sends by default, and says where to see it."""

from onestop.localinfra import mailpit
from onestop.notify.settings import NotifySettings
from onestop.ops.run import banner, programs


def test_make_run_starts_mailpit_where_notify_sends_and_prints_its_web_view() -> None:
    [mail] = [program for program in programs() if program.name == "mail"]
    assert mail.command[0] == str(mailpit.binary())
    smtp_port = NotifySettings.model_fields["notify_smtp_port"].default
    assert f"--smtp=127.0.0.1:{smtp_port}" in mail.command and "--max=0" in mail.command
    assert "--listen=127.0.0.1:8025" in mail.command
    assert "sent mail  http://127.0.0.1:8025" in banner([mail])

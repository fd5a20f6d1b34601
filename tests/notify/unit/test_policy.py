"""Who hears what and how: preferences, fall-back, sampling and back-off."""

from uuid import uuid4

from onestop.contracts.events.common import ContactMethod
from onestop.notify.domain.policy import Reachability, in_sample, out_of_attempts, retry_delay
from onestop.notify.domain.templates import Templates


def test_the_preferred_method_wins_when_consented_and_reachable() -> None:
    reach = Reachability(
        ContactMethod.SMS,
        frozenset({ContactMethod.SMS, ContactMethod.EMAIL}),
        {ContactMethod.SMS: "07700900123", ContactMethod.EMAIL: "a@b.org"},
    )
    assert reach.method() == (ContactMethod.SMS, "07700900123")


def test_falls_back_in_order_and_never_to_a_method_without_consent() -> None:
    reach = Reachability(
        ContactMethod.EMAIL,
        frozenset({ContactMethod.EMAIL, ContactMethod.LETTER}),
        {ContactMethod.EMAIL: "a@b.org", ContactMethod.SMS: "07700900123", ContactMethod.LETTER: "1 High St"},
    )
    assert reach.method(excluding=frozenset({ContactMethod.EMAIL})) == (ContactMethod.LETTER, "1 High St")
    assert reach.method(excluding=frozenset({ContactMethod.EMAIL, ContactMethod.LETTER})) is None


def test_sampling_rate_is_within_tolerance_over_a_thousand_closes() -> None:
    cases = [uuid4() for _ in range(1000)]
    sampled = sum(in_sample(case, 0.2) for case in cases)
    assert 160 <= sampled <= 240
    assert [in_sample(c, 0.2) for c in cases[:50]] == [in_sample(c, 0.2) for c in cases[:50]], "deterministic"
    assert not any(in_sample(c, 0) for c in cases)


def test_back_off_doubles_up_to_five_minutes() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry_delay(20) == 300


def test_a_claim_past_the_attempts_limit_is_given_up() -> None:
    assert not out_of_attempts(6, max_attempts=6)  # the sixth claim may still send
    assert out_of_attempts(7, max_attempts=6)  # a seventh only follows a sixth cut off by a restart


def test_templates_render_in_plain_english_and_fall_back_to_english() -> None:
    templates = Templates()
    context = {"name": "Jo", "reference": "OS-AAAA-BBBB", "service": "Flytipping", "outcome": "Cleared."}
    completed = templates.render("completed", context)
    assert completed.subject == "OS-AAAA-BBBB is complete: Flytipping"
    assert "Dear Jo" in completed.body and "Cleared." in completed.body
    assert templates.render("completed", context, language="cy").language == "cy"
    staff = {"headline": "h", "reason": "r", "days_open": 3, "due": None}
    assert templates.render("staff_alert", staff, language="cy").language == "en"  # staff read English
    welsh = templates.render(
        "acknowledgement",
        {
            "name": "Jo",
            "cases": [{"reference": "OS-1", "service": "s", "expected": None, "done": False}],
            "tracking_url": "u",
        },
        language="cy",
    )
    assert welsh.language == "cy" and "Diolch" in welsh.body

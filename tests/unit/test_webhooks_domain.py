"""Signing, the address policy, URL checks and retry timing: pure domain code."""

from __future__ import annotations

import base64
import ipaddress
import json
import math
import re
from datetime import UTC, datetime

import pytest

from domain.errors import InvalidInput
from domain.webhook_retries import AttemptResult, RetryPolicy, decide, failed_answer, short_text
from domain.webhook_signing import generate_secret, message_body, sign, signed_headers
from domain.webhook_targets import AddressPolicy, validate_url
from domain.webhooks import DeliveryStatus, parse_event_types
from tests.support.signatures import verify

# The Standard Webhooks specification's own test vector.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NO_PRIVATE = AddressPolicy()
LOOPBACK_ALLOWED = AddressPolicy((ipaddress.ip_network("127.0.0.0/8"),))


def test_signature_matches_the_spec_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD) == SPEC_SIGNATURE
    assert verify(SPEC_SECRET, SPEC_ID, str(SPEC_TIMESTAMP), SPEC_PAYLOAD, SPEC_SIGNATURE)


def test_signed_headers_verify_independently_and_fail_when_tampered() -> None:
    secret = generate_secret()
    body = message_body("resource.created", datetime(2026, 1, 2, tzinfo=UTC), {"id": 1})
    headers = signed_headers(secret, "msg_1", 1_700_000_000, body)
    assert headers["webhook-timestamp"] == "1700000000"
    args = (headers["webhook-id"], headers["webhook-timestamp"])
    assert verify(secret, *args, body, headers["webhook-signature"])
    assert not verify(secret, *args, body + b" ", headers["webhook-signature"])
    assert not verify(generate_secret(), *args, body, headers["webhook-signature"])


def test_secrets_are_whsec_and_24_random_bytes_or_more() -> None:
    secret = generate_secret()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert generate_secret() != secret


def test_body_is_type_timestamp_data_in_camel_case_order() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = message_body("resource.updated", at, {"id": 7, "createdAt": at, "name": "é"})
    assert (
        body
        == (
            '{"type":"resource.updated","timestamp":"2026-01-02T03:04:05Z",'
            '"data":{"id":7,"createdAt":"2026-01-02T03:04:05Z","name":"é"}}'
        ).encode()
    )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "169.254.1.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1",
        "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "192.0.2.1",
    ],
)  # fmt: skip
def test_internal_addresses_are_refused(address: str) -> None:
    assert not NO_PRIVATE.permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_permitted(address: str) -> None:
    assert NO_PRIVATE.permits(ipaddress.ip_address(address))


def test_the_allow_list_opens_only_its_ranges() -> None:
    assert LOOPBACK_ALLOWED.permits(ipaddress.ip_address("127.0.0.1"))
    assert LOOPBACK_ALLOWED.permits(ipaddress.ip_address("::ffff:127.0.0.2"))
    assert not LOOPBACK_ALLOWED.permits(ipaddress.ip_address("169.254.169.254"))
    assert not LOOPBACK_ALLOWED.permits(ipaddress.ip_address("10.0.0.1"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("example.com/hook", "http or https"),
        ("http:///nohost", "must name a host"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://example.com:99999/", "not a valid URL"),
        ("http://127.0.0.1/", "not allowed"),
        ("http://[::1]:8080/", "not allowed"),
        ("http://169.254.169.254/latest/meta-data", "not allowed"),
        ("http://[::ffff:10.0.0.1]/", "not allowed"),
        ("http://localhost:8080/", "not allowed"),
        ("https://example.com/" + "a" * 2048, "1-2048"),
        ("https://exa mple.com/hook", "a space"),
        ("https://example.com/my hook", "a space"),
        (" https://example.com/", "a space"),
        ("https://example.com/\t", "a control character"),
        ("https://exa\nmple.com/", "a control character"),
        ("https://example.com/\x00", "a control character"),
        ("https://example.com/\x7f", "a control character"),
        ("https://exämple.com/", "xn--"),
        ("https://example.com/<script>", "'<'"),
        ('https://example.com/a"b', "'\"'"),
        ("https://example.com\\@evil.example/", "'\\\\'"),
        ("https://example.com/%zz", "two hex digits"),
        ("http://:80/x", "must name a host"),
        ("https://?x", "must name a host"),
        ("https://@example.com/", "credentials"),
        ("https://user@example.com/", "credentials"),
        ("https://-example.com/", "labels"),
        ("https://example..com/", "labels"),
        ("https://ex%41mple.com/", "labels"),
        ("https://" + "a" * 64 + ".com/", "labels"),
        ("https://" + ("a" * 60 + ".") * 5 + "com/", "at most 253"),
        ("https://[v1.x]/", "bracketed host"),
        # Resolvers read these as 127.0.0.1 / 1.2.0.3; only dotted quads are accepted.
        ("https://2130706433/", "IPv4"),
        ("https://0x7f.1/", "IPv4"),
        ("https://01.2.3.4/", "IPv4"),
        ("http://127.0.0.1./", "not allowed"),
    ],
)
def test_bad_urls_are_refused_at_subscribe_time(url: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_url(url, NO_PRIVATE)
    assert caught.value.details[0].field == "url"
    assert message in caught.value.details[0].message


def test_good_urls_and_allowed_private_ones_pass() -> None:
    assert validate_url("https://example.com/hooks?x=1", NO_PRIVATE)
    assert validate_url("http://93.184.216.34:8080/", NO_PRIVATE)
    assert validate_url("http://127.0.0.1:9000/hook", LOOPBACK_ALLOWED)
    assert validate_url("http://localhost:9000/hook", LOOPBACK_ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/a/b?x=1&y=%20z#frag",
        "HTTPS://EXAMPLE.COM/",
        "https://example.com./hook",
        "https://my_host.example.com/",
        "https://xn--exmple-cua.com/",
        "https://123.example.com/",
        "https://[2606:4700::1111]:8443/hook",
        "https://example.com:8443/a;b=c/(d)*!$'",
        "https://" + "a" * 63 + ".com/",
    ],
)
def test_unusual_but_valid_urls_pass(url: str) -> None:
    assert validate_url(url, NO_PRIVATE) == url


def test_event_types_must_be_known_and_present() -> None:
    assert {e.value for e in parse_event_types(["resource.created", "resource.created"])} == {
        "resource.created"
    }
    for bad in ([], ["resource.exploded"]):
        with pytest.raises(InvalidInput) as caught:
            parse_event_types(bad)
        assert caught.value.details[0].field == "eventTypes"


def test_backoff_grows_with_jitter_and_gives_up_after_about_a_day() -> None:
    policy = RetryPolicy()
    assert policy.delay(1, 0.5) == pytest.approx(5)
    assert policy.delay(2, 0.5) == pytest.approx(20)
    assert 0.75 * 80 <= policy.delay(3, 0.0) < policy.delay(3, 0.999) <= 1.25 * 80
    assert policy.delay(1000, 0.5) == pytest.approx(4 * 3600)
    age, attempts = 0.0, 1
    while (delay := policy.next_delay(attempts, age, 0.5)) is not None:
        age += delay
        attempts += 1
    assert 20 * 3600 < age <= 24 * 3600
    assert 8 <= attempts <= 15


def test_outcomes() -> None:
    policy = RetryPolicy(base=1, window=100)

    def outcome(code: int | None, attempts: int = 1, age: float = 0):
        return decide(AttemptResult(code, None, 1.0), attempts, age, policy, 0.5)

    assert outcome(200).status is DeliveryStatus.SUCCEEDED
    assert outcome(204).status is DeliveryStatus.SUCCEEDED
    for code in (301, 400, 429, 500, None):
        assert outcome(code).status is DeliveryStatus.PENDING
        assert outcome(code).retry_in == pytest.approx(1)
    assert outcome(500, attempts=3, age=99).status is DeliveryStatus.FAILED
    gone = outcome(410)
    assert gone.status is DeliveryStatus.FAILED and gone.disable_webhook


def test_numbers_beyond_a_double_are_null_as_in_the_api_never_infinity() -> None:
    data = {"metadata": {"big": math.inf, "list": [1.5, -math.inf, {"n": math.nan}]}}
    body = message_body("resource.created", datetime(2026, 1, 2, tzinfo=UTC), data)
    assert json.loads(body)["data"] == {"metadata": {"big": None, "list": [1.5, None, {"n": None}]}}
    assert b"Infinity" not in body and b"NaN" not in body


def test_short_text_is_one_printable_line_of_bounded_length() -> None:
    assert short_text("a\x1b[0m\r\n\tb  \x00 c") == "a [0m b c"
    long = short_text("x" * 1000, 50)
    assert len(long) == 50 and long.endswith("…")
    assert failed_answer(500, b"") == "HTTP 500"
    assert failed_answer(503, b"  busy\n") == "HTTP 503: busy"
    assert len(failed_answer(500, b"y" * 10_000)) == len("HTTP 500: ") + 100
    assert failed_answer(500, b"\xff\xfe ok") == "HTTP 500: \ufffd\ufffd ok"

"""Local stand-ins for the sending providers, speaking their real request and answer shapes.

Each server listens on a loopback port, records every request it gets (``requests``) and
answers as the provider does: SMS Gateway for Android's API (POST /messages with basic
auth, GET /messages/{id}), Twilio's Messages.json, Jasmin's /send, and an SMTP server.
Any server can be told to answer every request with an error (``fail``) or to answer
late (``delay``); ``refused_url()`` is an address where nothing listens.
"""

import base64
import json
import re
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# The accounts the servers accept unless told others (test credentials, nothing real).
ANDROID_LOGIN, ANDROID_PASSWORD = "sms", "android-pass"
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN = "AC" + "0" * 32, "twilio-auth-token-0123456789"
JASMIN_USERNAME, JASMIN_PASSWORD = "jasmin_user", "jasmin_pass"


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        login, _, password = base64.b64decode(value).decode().partition(":")
        return login, password


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, data: Any) -> "Answer":
        return cls(status, json.dumps(data).encode())

    @classmethod
    def text(cls, status: int, text: str) -> "Answer":
        return cls(status, text.encode(), "text/plain")


def refused_url(scheme: str = "http") -> str:
    """An address on this machine where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


class ProviderServer:
    """A provider API on a loopback port; subclasses answer in ``answer``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.failure: Answer | None = None
        self.delay = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True  # a late answer never holds the test's end
        self._server.block_on_close = False
        # A short poll: stop() waits for one, and every test stops its servers.
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, status: int, body: Any = None, content_type: str = "application/json") -> None:
        """Answer every request from now on with ``status`` (and ``body``)."""
        raw = body if isinstance(body, bytes) else json.dumps(body or {"message": "failure"}).encode()
        self.failure = Answer(status, raw, content_type)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: Recorded) -> Answer:
        self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        return self.failure or self.answer(request)

    def answer(self, request: Recorded) -> Answer:
        raise NotImplementedError


def _handler_for(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Recorded(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            answer = server.handle(request)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- SMS Gateway for Android -------------------------------------------------------------
class AndroidGatewayServer(ProviderServer):
    """The phone's local server (or the cloud server): POST /messages, GET /messages/{id}.

    ``sends`` counts the POSTs per message id; a repeated id is answered 409 as the app
    does. Numbers in ``invalid_numbers`` are answered 400, as the app's phone validation.
    """

    def __init__(self, login: str = ANDROID_LOGIN, password: str = ANDROID_PASSWORD) -> None:
        self.login, self.password = login, password
        self.sends: Counter[str] = Counter()
        self.messages: dict[str, dict[str, Any]] = {}
        self.invalid_numbers: set[str] = set()
        super().__init__()

    def answer(self, request: Recorded) -> Answer:
        if request.basic_auth() != (self.login, self.password):
            return Answer.json(401, {"message": "Unauthorized"})
        if request.method == "POST" and request.path == "/messages":
            return self._send(request.json())
        found = re.fullmatch(r"/messages/([^/]+)", request.path)
        if request.method == "GET" and found:
            state = self.messages.get(found[1])
            return Answer.json(200, state) if state else Answer.json(404, {"message": "message not found"})
        return Answer.json(404, {"message": "Not Found"})

    def _send(self, data: dict[str, Any]) -> Answer:
        message_id = data.get("id") or uuid.uuid4().hex[:21]
        self.sends[message_id] += 1
        numbers = data.get("phoneNumbers") or []
        if not numbers or not (data.get("textMessage") or {}).get("text"):
            return Answer.json(400, {"message": "phoneNumbers and textMessage are required"})
        if set(numbers) & self.invalid_numbers:
            return Answer.json(400, {"message": f"can't parse phone number: {numbers[0]}"})
        if message_id in self.messages:
            return Answer.json(409, {"message": "Message with the same ID already exists"})
        self.messages[message_id] = {
            "id": message_id,
            "deviceId": "ffffffffceb0b1db0000018e937c815b",
            "state": "Pending",
            "isHashed": False,
            "isEncrypted": False,
            "recipients": [{"phoneNumber": n, "state": "Pending", "error": None} for n in numbers],
            "states": {"Pending": datetime.now(UTC).isoformat()},
        }
        return Answer.json(202, self.messages[message_id])


# --- Twilio --------------------------------------------------------------------------------
def twilio_error(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioServer(ProviderServer):
    """Twilio's REST API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form-encoded),
    answered 201 with the Message resource, or Twilio's error JSON."""

    def __init__(self, account_sid: str = TWILIO_ACCOUNT_SID, auth_token: str = TWILIO_AUTH_TOKEN) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.invalid_numbers: set[str] = set()
        self.created: list[dict[str, Any]] = []
        super().__init__()

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def fail_with(self, code: int, status: int, message: str = "failure") -> None:
        self.fail(status, twilio_error(code, status, message))

    def answer(self, request: Recorded) -> Answer:
        if request.basic_auth() != (self.account_sid, self.auth_token):
            return Answer.json(401, twilio_error(20003, 401, "Authenticate"))
        if request.method != "POST" or request.path != self.messages_path:
            return Answer.json(404, twilio_error(20404, 404, "The requested resource was not found"))
        form = request.form()
        if form.get("To") in self.invalid_numbers:
            return Answer.json(
                400, twilio_error(21211, 400, f"The 'To' number {form['To']} is not a valid phone number.")
            )
        return Answer.json(201, self._message(form))

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form.get("To"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.created.append(message)
        return message


# --- Jasmin --------------------------------------------------------------------------------
class JasminServer(ProviderServer):
    """Jasmin's HTTP API /send (GET query or POST form): ``Success "<id>"`` or ``Error "..."``
    with Jasmin's statuses (400 arguments, 403 authentication, 412 no route)."""

    def __init__(self, username: str = JASMIN_USERNAME, password: str = JASMIN_PASSWORD) -> None:
        self.username, self.password = username, password
        self.no_route_numbers: set[str] = set()
        self.sent: dict[str, dict[str, str]] = {}  # message id -> the request's arguments
        super().__init__()

    def answer(self, request: Recorded) -> Answer:
        if request.path != "/send":
            return Answer.text(404, "No Such Resource")
        args = request.form() if request.method == "POST" else request.query
        missing = [name for name in ("to", "username", "password") if name not in args]
        if missing:
            return Answer.text(400, f'Error "Mandatory argument [{missing[0]}] is not found."')
        if not re.fullmatch(r"\+?\d+", args["to"]):
            return Answer.text(400, f'Error "Argument [to] has an invalid value: [{args["to"]}]."')
        if ("content" in args) == ("hex-content" in args):
            return Answer.text(400, 'Error "content or hex-content not present."')
        if (args["username"], args["password"]) != (self.username, self.password):
            return Answer.text(403, f'Error "Authentication failure for username:{args["username"]}"')
        if args["to"] in self.no_route_numbers:
            return Answer.text(412, 'Error "No route found"')
        message_id = str(uuid.uuid4())
        self.sent[message_id] = args
        return Answer.text(200, f'Success "{message_id}"')


# --- SMTP ----------------------------------------------------------------------------------
@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class SmtpRecorder:
    """aiosmtpd's handler: keeps every mail, refuses the recipients in ``refused``."""

    received: list[ReceivedMail] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.received.append(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), data))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server on a loopback port (aiosmtpd in its own thread)."""

    def __init__(self) -> None:
        self.recorder = SmtpRecorder()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[ReceivedMail]:
        return self.recorder.received

    def stop(self) -> None:
        self._controller.stop()

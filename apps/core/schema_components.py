"""OpenAPI security schemes of the gateway endpoints (plain data: settings import it)."""

GATEWAY_SECURITY_SCHEMES = {
    "gatewayToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A native gateway's token (`manage.py create_gateway native NAME`).",
    },
    "androidSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "Hex HMAC-SHA256(gateway secret, raw body + X-Timestamp); X-Timestamp within 5 minutes.",
    },
    "twilioSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Signature",
        "description": "Twilio's request signature, checked with the gateway's auth token.",
    },
    "jasminToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "The Jasmin gateway's token.",
    },
}

"""Delivery receipts from the sending gateways (filled in below)."""

from rest_framework.views import APIView


class AndroidReceiptApi(APIView):
    pass


class TwilioReceiptApi(APIView):
    pass


class JasminReceiptApi(APIView):
    pass

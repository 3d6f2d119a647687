"""Online verification against a health-code platform: QR tokens and resident ID numbers."""

"""Local stand-ins for the SMS providers, speaking their documented wire formats.

Each stand-in is an HTTP server on 127.0.0.1 (a free port) that the official SDKs can be
pointed at, with knobs to make the next request fail or hang, and helpers that build the
signed requests the provider sends back to the application (status callbacks, inbound
messages, delivery reports). ``tests/messaging/test_standins.py`` drives the official SDKs
against them, so a test that uses a stand-in exercises the same bytes as production.
"""

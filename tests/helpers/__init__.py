"""Helpers the tests share (git repositories, mail builders, the bot's crash seam); not tests."""

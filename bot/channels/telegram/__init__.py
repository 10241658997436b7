"""The Telegram channel: durable intake, a worker per chat, and an outbox sender."""

"""The channel to terminals: built-in WebSocket hub or an MQTT broker."""

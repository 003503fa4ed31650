"""The HTTP API: aiohttp routes that translate requests to the service layer and back."""

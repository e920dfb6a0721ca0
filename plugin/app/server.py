"""``dossier serve``: run the app with uvicorn (ExApp mode with AppAPI's environment,
standalone over local folders otherwise)."""

from __future__ import annotations

import logging

from .config import Settings, check_bind


def serve(settings: Settings, host: str | None = None, port: int | None = None, log_level: str = "info") -> None:
    """Serve the app; a standalone server without a login refuses any non-loopback address
    (:func:`.config.check_bind` raises ConfigError before anything listens)."""
    import uvicorn

    from .service import Service
    from .web import create_app

    bind = host or settings.host
    check_bind(settings, bind)

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    svc = Service(settings)
    app = create_app(svc, bind_host=bind)
    # AppAPI reaches a manual-install ExApp on APP_HOST:APP_PORT; standalone binds loopback.
    uvicorn.run(app, host=bind, port=port or settings.port, log_level=log_level,
                proxy_headers=False, server_header=False)

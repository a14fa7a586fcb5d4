"""Thin adapters from web server interfaces to :class:`fmc.webhook.WebhookHandler`.

Each adapter only moves bytes: it reads the method, query string, headers and
body (never more than the handler's ``max_body_bytes``), calls
:meth:`~fmc.webhook.handler.WebhookHandler.respond` and writes the
:class:`~fmc.webhook.handler.Response` back. Neither imports a web framework.

Flask (or any WSGI server)::

    from fmc.adapters.wsgi import make_app
    handler = fmc.WebhookHandler(app_secret=APP_SECRET, verify_token=VERIFY_TOKEN)
    flask_app.wsgi_app = DispatcherMiddleware(flask_app.wsgi_app, {"/webhook": make_app(handler)})

or as a plain Flask view::

    @flask_app.route("/webhook", methods=["GET", "POST"])
    def webhook():
        answer = handler.respond(
            request.method, request.args.to_dict(flat=False), request.headers, request.get_data()
        )
        return answer.body, answer.status, list(answer.headers)

FastAPI / Starlette (or any ASGI server)::

    from fmc.adapters.asgi import make_app
    api.mount("/webhook", make_app(handler))

Django (Meta's POSTs carry no CSRF token, so the view is exempt; the
signature check is what authenticates them)::

    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def webhook(request):
        answer = handler.respond(
            request.method, dict(request.GET.lists()), request.headers.items(), request.body
        )
        response = HttpResponse(answer.body, status=answer.status)
        for name, value in answer.headers:
            response[name] = value
        return response
"""

from __future__ import annotations

__all__: list[str] = []

"""The contract of _contract.py (HTTP only) as async Django views."""

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

import _contract


async def health(request):
    return HttpResponse("ok", content_type="text/plain")


async def scope(request):
    return JsonResponse(_contract.scope_json(request.scope))


@csrf_exempt
async def echo(request):
    # Django reads the whole body before the view runs; it is streamed back in chunks.
    body = request.body

    async def chunks():
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    return StreamingHttpResponse(chunks(), content_type="application/octet-stream")


async def sse(request):
    n = int(request.GET.get("n", "5"))

    async def events():
        for event in _contract.sse_events(n):
            yield event

    return StreamingHttpResponse(events(), content_type="text/event-stream")


urlpatterns = [
    path("health", health),
    path("scope", scope),
    path("echo", echo),
    path("sse", sse),
]

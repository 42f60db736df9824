from django.http import HttpResponse, JsonResponse
from django.urls import path


def index(request):
    return HttpResponse("Hello from Django\n", content_type="text/plain")


def info(request):
    return JsonResponse({"path": request.path, "method": request.method,
                         "script_name": request.META.get("SCRIPT_NAME", "")})


urlpatterns = [
    path("", index),
    path("info", info),
]

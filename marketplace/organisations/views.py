from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    return render(request, "organisations/dashboard.html")


def invitation_accept(request, token: str):
    return render(request, "organisations/invitation_accept.html", {"token": token})

"""Who is an operator: staff. The console, the datastore API and the break-glass kubeconfig ask this."""


def is_operator(user) -> bool:
    return bool(user.is_authenticated and user.is_staff)

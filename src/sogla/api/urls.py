"""The REST API object; each app owns its router (see ``sogla.api.setup``)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Sogla API", version="1", urls_namespace="api")
